// Package metrics holds adsync's Prometheus metrics and serves them, with
// /healthz and /readyz, on a process's metrics address.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Registry holds every adsync metric of the process.
var Registry = prometheus.NewRegistry()

var (
	// Runs counts finished runs by outcome (and rejected ones).
	Runs = counter("adsync_runs_total", "Runs by outcome.", "outcome")
	// RunOutcomes counts finished and rejected runs per job and outcome.
	RunOutcomes = counter("adsync_run_outcomes_total", "Runs by job and outcome (completed, held, partial, failed, rejected).", "job", "outcome")
	// DomainLastSuccess is when a job last completed a domain.
	DomainLastSuccess = gauge("adsync_domain_last_success_timestamp_seconds", "When a job last completed a domain (unix seconds).", "job", "domain")
	// HeldPlans is 1 for each domain whose plan the deletion guard holds.
	HeldPlans = gauge("adsync_held_plans", "Plans held by the deletion guard (1 per job and domain).", "job", "domain")
	// JobNextRun is the next scheduled run of each enabled job.
	JobNextRun = gauge("adsync_job_next_run_timestamp_seconds", "The next scheduled run of a job (unix seconds).", "job")
	// Notifications counts alert deliveries per channel and result (sent,
	// retry, refused).
	Notifications = counter("adsync_notifications_total", "Alert deliveries by channel and result.", "channel", "result")
	// EntriesRead counts directory entries read, per domain and mode.
	EntriesRead = counter("adsync_directory_entries_read_total", "Directory entries read.", "domain", "mode")
	// ChangesApplied counts account changes applied, per domain and operation.
	ChangesApplied = counter("adsync_account_changes_applied_total", "Account changes applied.", "domain", "op")
	// Handled counts handled messages per consumer and result (ack, retry, dead-letter).
	Handled = counter("adsync_messages_handled_total", "Messages handled, by consumer and result.", "consumer", "result")
	// Redeliveries counts deliveries after the first, per consumer.
	Redeliveries = counter("adsync_redeliveries_total", "Messages delivered more than once.", "consumer")
	// DeadLetters counts messages dead-lettered, per consumer.
	DeadLetters = counter("adsync_dead_letters_total", "Messages moved to the dead-letter stream.", "consumer")
	// HandlerSeconds times handlers per consumer: the pipeline's phases.
	HandlerSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "adsync_handler_duration_seconds", Help: "Time to handle one message, by consumer (pipeline phase).",
		Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
	}, []string{"consumer"})
	// PhaseSeconds times whole phases of a domain's sync (read, apply).
	PhaseSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "adsync_phase_duration_seconds", Help: "Duration of a domain's read and apply phases.",
		Buckets: prometheus.ExponentialBuckets(0.01, 3, 12),
	}, []string{"phase"})
	// ConsumerPending is each consumer's backlog (not yet delivered).
	ConsumerPending = gauge("adsync_consumer_pending_messages", "Messages waiting in a consumer (lag).", "consumer")
	// ConsumerAckPending is each consumer's delivered but unacknowledged messages.
	ConsumerAckPending = gauge("adsync_consumer_ack_pending_messages", "Messages delivered and not yet acknowledged.", "consumer")
)

func counter(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
}

func gauge(name, help string, labels ...string) *prometheus.GaugeVec {
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
}

func init() {
	Registry.MustRegister(Runs, EntriesRead, ChangesApplied, Handled, Redeliveries, DeadLetters, HandlerSeconds, PhaseSeconds,
		ConsumerPending, ConsumerAckPending, RunOutcomes, DomainLastSuccess, HeldPlans, JobNextRun, Notifications,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
}

// Serve serves /metrics, /healthz and /readyz on addr until ctx ends.
// ready says whether the process is ready (connected, handlers running).
func Serve(ctx context.Context, addr string, ready func() error) error {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := ready(); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics: listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

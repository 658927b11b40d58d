package guard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/admission"
	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/internal/infra/metrics"
	"github.com/adsync/adsync/internal/jobs"
	"github.com/adsync/adsync/internal/leases"
	"github.com/adsync/adsync/internal/presence"
)

// Rejection codes (those of the admission checks are shared with
// directory-reader, which applies them again before a requeued attempt).
const (
	CodeSSOEnabled       = admission.CodeSSOEnabled
	CodeJobMissing       = admission.CodeJobMissing
	CodeJobDisabled      = admission.CodeJobDisabled
	CodeWrongEnvironment = admission.CodeWrongEnvironment
	CodeNoJobServer      = "no-job-server"
	CodeRunInProgress    = "run-in-progress"
	CodeUnknownDomain    = "unknown-domain"
	CodeHeldPlan         = "held-plan"
)

// A request that finds its job's lease held is delivered again
// leaseWaitAttempts-1 times, leaseWaitDelay apart, before it is refused
// (the guard-sync-requested consumer delivers a message 10 times at most).
const (
	leaseWaitAttempts = 5
	leaseWaitDelay    = 250 * time.Millisecond
)

type verdict struct {
	reasons []string
	codes   []string
}

func (v *verdict) reject(code, format string, a ...any) {
	v.codes = append(v.codes, code)
	v.reasons = append(v.reasons, fmt.Sprintf(format, a...))
}

// HandleRequested admits or rejects a requested run.
func (s *Service) HandleRequested(ctx context.Context, r *events.SyncRequested) error {
	now := s.cfg.Now()
	var v verdict

	job, refusals, err := s.admission.Check(ctx, r.Job)
	if err != nil {
		return err
	}
	for _, rf := range refusals {
		v.codes = append(v.codes, rf.Code)
		v.reasons = append(v.reasons, rf.Reason)
	}
	var domains []string
	if job != nil {
		domains = s.domainsOf(job, &v)
	}
	// A domain with a held plan is left out of the run (and reported as
	// held); the run is refused only when every domain is held.
	var held []events.HeldDomain
	var ready []string
	for _, d := range domains {
		plan, err := s.stores.Holds.Get(ctx, d)
		if err != nil {
			return err
		}
		if plan == nil {
			ready = append(ready, d)
			continue
		}
		held = append(held, events.HeldDomain{Domain: d, RunID: plan.RunID, Reasons: nonNil(plan.Hold.Reasons)})
	}
	if len(held) > 0 && len(ready) == 0 {
		for _, h := range held {
			v.reject(CodeHeldPlan, "domain %q has a plan held by the deletion guard (run %s: %s): approve or discard it first (adsync run approve %s | adsync run discard %s)",
				h.Domain, h.RunID, strings.Join(h.Reasons, "; "), h.RunID, h.RunID)
		}
	}
	domains = ready

	alive, err := presence.JobServerAlive(ctx, s.stores.Servers, "directory-reader", s.cfg.Wall(), s.cfg.ServerTTL)
	if err != nil {
		return err
	}
	if !alive {
		v.reject(CodeNoJobServer, "no job server is available: set job_server: true on at least one server")
	}

	lease, rev, err := s.stores.Leases.Current(ctx, r.Job)
	if err != nil {
		return err
	}
	if lease != nil && lease.RunID != r.RunID && now.Before(lease.ExpiresAt) {
		// The run may have ended with its sync.completed still on its way
		// to guard's other consumer (held back for an ack wait when a
		// guard stopped with it fetched): the stream says so.
		done, err := s.pub.RunCompleted(ctx, lease.RunID)
		if err != nil {
			return err
		}
		if done {
			if err := s.stores.Leases.Release(ctx, r.Job, lease.RunID); err != nil {
				return err
			}
			if lease, rev, err = s.stores.Leases.Current(ctx, r.Job); err != nil {
				return err
			}
		}
	}
	if lease != nil && lease.RunID != r.RunID && now.Before(lease.ExpiresAt) {
		// guard releases a lease when it handles the run's sync.completed,
		// which comes on a consumer of its own: a request made as soon as
		// the last run ended (a script's next `job run`) may come first.
		// It waits for that a moment before it refuses.
		if attempt := bus.DeliveryFrom(ctx).Attempt; attempt < leaseWaitAttempts {
			return bus.RetryAfter(leaseWaitDelay, fmt.Errorf("job %q: lease held by run %s (attempt %d of %d)", r.Job, lease.RunID, attempt, leaseWaitAttempts))
		}
		v.reject(CodeRunInProgress, "run %s still in progress (started %s; considered dead after %s)", lease.RunID,
			lease.Acquired.UTC().Format(time.RFC3339), lease.ExpiresAt.UTC().Format(time.RFC3339))
	}

	log := bus.Logger(ctx)
	if len(v.reasons) > 0 {
		log.Warn("run rejected", "reasons", strings.Join(v.reasons, "; "))
		metrics.Runs.WithLabelValues(events.OutcomeRejected).Inc()
		return s.pub.Publish(ctx, &events.SyncRejected{Run: r.Run, Reasons: v.reasons, Codes: v.codes})
	}

	l := leases.Lease{RunID: r.RunID, Acquired: now.UTC(), ExpiresAt: now.Add(s.cfg.RunLease).UTC()}
	if lease != nil && lease.RunID == r.RunID {
		l = *lease // redelivered request: keep the lease it took
	} else if err := s.stores.Leases.Take(ctx, r.Job, l, rev); err != nil {
		if errors.Is(err, leases.ErrRace) {
			return bus.RetryAfter(100*time.Millisecond, fmt.Errorf("lease of job %q: %w", r.Job, err))
		}
		return err
	}
	mode := r.Mode
	if mode == "" {
		mode = job.Mode
	}
	if mode == "" {
		mode = events.ModeAuto
	}
	run := r.Run
	run.Held = held
	for _, h := range held {
		log.Warn("domain left out of the run: its plan is held", "held_domain", h.Domain, "held_run", h.RunID)
	}
	log.Info("run approved", "domains", strings.Join(domains, ","), "mode", mode)
	return s.pub.Publish(ctx, &events.SyncApproved{
		Run: run, Domains: domains, Requeue: job.Requeue,
		LeaseExpiresAt: l.ExpiresAt.Format(time.RFC3339), Mode: mode,
		Safety: job.SafetyPolicy(), Groups: job.Groups,
	})
}

// domainsOf resolves the job's domains against the configuration.
func (s *Service) domainsOf(job *jobs.Job, v *verdict) []string {
	if job.AllDomains {
		return slices.Clone(s.cfg.Domains)
	}
	var out []string
	for _, d := range job.Domains {
		if !slices.Contains(s.cfg.Domains, d) {
			v.reject(CodeUnknownDomain, "job %q names domain %q, which is not configured (configured: %s)", job.Name, d, strings.Join(s.cfg.Domains, ", "))
			continue
		}
		out = append(out, d)
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Package runs is the history of AD Sync Job runs, rebuilt from the run
// events that the control stream keeps (nats.history): what the command
// line, the API and the console show of a run.
package runs

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/services/account-writer/accounts"
)

// Summary is a run as the command line and the API show it: `job run
// --wait`, `job history`, GET /api/v1/jobs/{name}/runs.
type Summary struct {
	RunID       string                `json:"run_id"`
	Job         string                `json:"job"`
	Trigger     events.Trigger        `json:"trigger"`
	Outcome     string                `json:"outcome"`
	Reasons     []string              `json:"reasons"`
	Domains     []events.DomainResult `json:"domains"`
	Totals      events.Counts         `json:"totals"`
	Attempts    int                   `json:"attempts"`
	RequestedAt time.Time             `json:"requested_at"`
	FinishedAt  *time.Time            `json:"finished_at,omitempty"`
	DryRun      bool                  `json:"dry_run,omitempty"`
	// Failures lists each failed attempt of a domain (history only).
	Failures []AttemptFailure `json:"failures,omitempty"`
	// Plan lists every account change of a dry run (up to
	// accounts.report_max_rows; failures always).
	Plan []accounts.Change `json:"plan,omitempty"`
	// PlanTruncated counts the planned changes not listed in Plan because
	// the run reached accounts.report_max_rows; the counts stay exact.
	PlanTruncated int `json:"plan_truncated,omitempty"`
	// PlanTruncatedBy counts them per domain.
	PlanTruncatedBy map[string]int `json:"-"`
}

// AttemptFailure is one failed attempt to read a domain. Trigger is the
// run's own for the first attempt and "requeue" for the later ones.
type AttemptFailure struct {
	Domain    string         `json:"domain"`
	Attempt   int            `json:"attempt"`
	Trigger   events.Trigger `json:"trigger"`
	Reason    string         `json:"reason"`
	WillRetry bool           `json:"will_retry"`
	RetryIn   string         `json:"retry_in,omitempty"`
	At        time.Time      `json:"at"`
}

// OfCompleted is a finished run's summary.
func OfCompleted(c *events.SyncCompleted) Summary {
	s := Summary{
		RunID: c.RunID, Job: c.Job, Trigger: c.Trigger, Outcome: c.Outcome, Reasons: nonNilStrings(c.Reasons),
		Domains: c.Domains, Totals: c.Totals, RequestedAt: c.RequestedAt, DryRun: c.DryRun,
	}
	f := c.FinishedAt
	s.FinishedAt = &f
	for _, d := range c.Domains {
		s.Attempts = max(s.Attempts, d.Attempts)
	}
	if s.Domains == nil {
		s.Domains = []events.DomainResult{}
	}
	return s
}

// OfRejected is a rejected run's summary.
func OfRejected(r *events.SyncRejected, at time.Time) Summary {
	return Summary{
		RunID: r.RunID, Job: r.Job, Trigger: r.Trigger, Outcome: events.OutcomeRejected, Reasons: nonNilStrings(r.Reasons),
		Domains: []events.DomainResult{}, RequestedAt: r.RequestedAt, FinishedAt: &at,
	}
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// History rebuilds a job's runs from the run events kept in the control
// stream (bounded by nats.history), newest first.
func History(ctx context.Context, js jetstream.JetStream, job string) ([]Summary, error) {
	all, err := history(ctx, js, func(j string) bool { return j == job })
	if err != nil {
		return nil, err
	}
	if all[job] == nil {
		return []Summary{}, nil
	}
	return all[job], nil
}

// Histories is History of every job, in one read of the stream.
func Histories(ctx context.Context, js jetstream.JetStream) (map[string][]Summary, error) {
	return history(ctx, js, func(string) bool { return true })
}

func history(ctx context.Context, js jetstream.JetStream, keep func(job string) bool) (map[string][]Summary, error) {
	names := []string{
		(events.SyncRequested{}).EventName(), (events.SyncApproved{}).EventName(), (events.SyncRejected{}).EventName(),
		(events.SyncCompleted{}).EventName(), (events.DirectoryFailed{}).EventName(),
	}
	subjects := make([]string, len(names))
	for i, n := range names {
		subjects[i] = events.SubjectOf(n)
	}
	st, err := js.Stream(ctx, bus.StreamControl)
	if err != nil {
		return nil, err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return nil, err
	}
	runs := map[string]*Summary{}
	var order []string
	if info.State.Msgs > 0 {
		cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: subjects, DeliverPolicy: jetstream.DeliverAllPolicy})
		if err != nil {
			return nil, err
		}
		get := func(r events.Run) *Summary {
			s, ok := runs[r.RunID]
			if !ok {
				s = &Summary{RunID: r.RunID, Job: r.Job, Trigger: r.Trigger, RequestedAt: r.RequestedAt, Outcome: "requested",
					Reasons: []string{}, Domains: []events.DomainResult{}}
				runs[r.RunID] = s
				order = append(order, r.RunID)
			}
			return s
		}
		err = bus.ReadToEnd(ctx, cons, 500, func(m jetstream.Msg) {
			var head struct {
				events.Run
			}
			if json.Unmarshal(m.Data(), &head) != nil || !keep(head.Job) {
				return
			}
			s := get(head.Run)
			switch bus.NameFromSubject(m.Subject()) {
			case names[1]:
				if s.Outcome == "requested" {
					s.Outcome = "running"
				}
			case names[2]:
				var r events.SyncRejected
				if json.Unmarshal(m.Data(), &r) == nil {
					*s = OfRejected(&r, md(m))
				}
			case names[3]:
				var r events.SyncCompleted
				if json.Unmarshal(m.Data(), &r) == nil {
					attempts, failures := s.Attempts, s.Failures
					*s = OfCompleted(&r)
					s.Attempts, s.Failures = max(s.Attempts, attempts), failures
				}
			case names[4]:
				var f events.DirectoryFailed
				if json.Unmarshal(m.Data(), &f) == nil {
					s.Attempts = max(s.Attempts, f.Attempt)
					trigger := s.Trigger
					if f.Attempt > 1 {
						trigger = events.TriggerRequeue
					}
					s.Failures = append(s.Failures, AttemptFailure{Domain: f.Domain, Attempt: f.Attempt, Trigger: trigger,
						Reason: f.Reason, WillRetry: f.WillRetry, RetryIn: f.RetryIn, At: f.FailedAt})
				}
			}
			if s.Attempts == 0 && s.Outcome != events.OutcomeRejected && s.Outcome != "requested" {
				s.Attempts = 1
			}
		})
		if err != nil {
			return nil, err
		}
	}
	out := map[string][]Summary{}
	for i := len(order) - 1; i >= 0; i-- {
		r := runs[order[i]]
		out[r.Job] = append(out[r.Job], *r)
	}
	return out, nil
}

// md returns a stream message's time.
func md(m jetstream.Msg) time.Time {
	meta, err := m.Metadata()
	if err != nil {
		return time.Time{}
	}
	return meta.Timestamp.UTC()
}

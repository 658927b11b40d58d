package notifier

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/internal/infra/metrics"
	"github.com/adsync/adsync/internal/jobs"
	"github.com/adsync/adsync/internal/runs"
)

// check looks for stale jobs and new dead letters, and sets the job
// gauges (held plans, next runs).
func (s *Service) check(ctx context.Context) error {
	list, err := s.stores.Jobs.List(ctx)
	if err != nil {
		return err
	}
	now := s.cfg.Now()
	// The run history, read once for every job, and only when a job is
	// scheduled.
	var history map[string][]runs.Summary
	historyOf := func(job string) ([]runs.Summary, error) {
		if history == nil {
			if history, err = runs.Histories(ctx, s.js); err != nil {
				return nil, err
			}
		}
		return history[job], nil
	}
	for _, j := range list {
		if err := s.checkStale(ctx, j, now, historyOf); err != nil {
			return err
		}
	}
	plans, err := s.stores.Holds.List(ctx)
	if err != nil {
		return err
	}
	metrics.HeldPlans.Reset()
	for _, p := range plans {
		metrics.HeldPlans.WithLabelValues(p.Job, p.Domain).Set(1)
	}
	return s.checkDeadLetters(ctx)
}

// interval is how often a scheduled job runs (0: not scheduled).
func interval(j *jobs.Job, now time.Time) time.Duration {
	if j.Schedule.Every != 0 {
		return j.Schedule.Every.D()
	}
	if j.Schedule.Cron == "" {
		return 0
	}
	a, ok1 := j.Schedule.Next(now)
	b, ok2 := j.Schedule.Next(a)
	if !ok1 || !ok2 {
		return 0
	}
	return b.Sub(a)
}

// checkStale fires job.stale for an enabled scheduled job without a good
// run for twice its interval (or notify.stale_after).
func (s *Service) checkStale(ctx context.Context, j *jobs.Job, now time.Time, historyOf func(string) ([]runs.Summary, error)) error {
	every := interval(j, now)
	metrics.JobNextRun.DeleteLabelValues(j.Name)
	if !j.Enabled || every == 0 {
		return nil
	}
	if next, ok := j.Schedule.Next(now); ok {
		metrics.JobNextRun.WithLabelValues(j.Name).Set(float64(next.Unix()))
	}
	limit := 2 * every
	if s.cfg.StaleAfter > 0 {
		limit = s.cfg.StaleAfter
	}
	history, err := historyOf(j.Name)
	if err != nil {
		return err
	}
	last, lastRun := j.ScheduleSince, "none"
	for _, r := range history {
		if r.Outcome == events.OutcomeCompleted && r.FinishedAt != nil {
			last, lastRun = *r.FinishedAt, r.RunID
			break
		}
	}
	if now.Sub(last) <= limit {
		return nil
	}
	return s.fire(ctx, alert{Kind: events.AlertJobStale, Job: j.Name, Occurrence: last.UTC().Format("20060102T150405Z"), Resolvable: true,
		Title: fmt.Sprintf("job %s: no good run for %s", j.Name, now.Sub(last).Round(time.Minute)), Link: s.link("/jobs/" + j.Name + "/runs"),
		Text: fmt.Sprintf("Job %s runs every %s, but its last good run (%s) finished at %s, %s ago: more than %s.\n\n"+
			"Look at its recent runs (they may be held, failing or refused) and at the job servers (is one running with job_server: true?).",
			j.Name, every, lastRun, last.UTC().Format(time.RFC3339), now.Sub(last).Round(time.Minute), limit)})
}

const deadLettersSeen = "deadletter.seen"

// checkDeadLetters fires deadletter.added once for each dead letter added
// since the last check.
func (s *Service) checkDeadLetters(ctx context.Context) error {
	st, err := s.js.Stream(ctx, bus.StreamDeadLetter)
	if err != nil {
		return err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return err
	}
	var seen uint64
	e, err := s.stores.Alerts.Get(ctx, deadLettersSeen)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
	case err != nil:
		return err
	default:
		seen, _ = strconv.ParseUint(string(e.Value()), 10, 64)
	}
	for seq := max(seen+1, info.State.FirstSeq); seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		var head events.Run
		_ = json.Unmarshal(m.Data, &head)
		if err := s.fire(ctx, alert{Kind: events.AlertDeadLetterAdded, Job: head.Job, RunID: head.RunID, Occurrence: strconv.FormatUint(seq, 10),
			Title: fmt.Sprintf("a message could not be processed (dead letter %d)", seq), Link: s.link("/deadletters"),
			Text: fmt.Sprintf("Dead letter %d: %s on %s, consumer %s, after %s deliveries: %s.\n\n"+
				"Fix the cause, then replay it (console: Dead letters; adsync deadletter replay %d) or purge it.",
				seq, orText(head.RunID, "a message"), m.Header.Get(bus.HeaderDeadSubject), m.Header.Get(bus.HeaderDeadConsumer),
				m.Header.Get(bus.HeaderDeadAttempts), m.Header.Get(bus.HeaderDeadReason), seq)}); err != nil {
			return err
		}
		if _, err := s.stores.Alerts.Put(ctx, deadLettersSeen, []byte(strconv.FormatUint(seq, 10))); err != nil {
			return fmt.Errorf("record dead letters seen: %w", err)
		}
	}
	if seen == 0 && info.State.LastSeq > 0 && info.State.Msgs == 0 {
		_, _ = s.stores.Alerts.Put(ctx, deadLettersSeen, []byte(strconv.FormatUint(info.State.LastSeq, 10)))
	}
	return nil
}

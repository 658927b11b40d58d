package notifier

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/holds"
	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/internal/infra/bus/bustest"
	"github.com/adsync/adsync/internal/jobs"
)

// recorder keeps what the notifier publishes.
type recorder struct {
	mu  sync.Mutex
	out []*events.NotificationRequested
}

func (r *recorder) Publish(_ context.Context, evs ...events.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range evs {
		if n, ok := e.(*events.NotificationRequested); ok {
			r.out = append(r.out, n)
		}
	}
	return nil
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var s []string
	for _, n := range r.out {
		s = append(s, n.Kind+"/"+n.State+"/"+n.Channel)
	}
	r.out = nil
	return s
}

// Each kind of alert fires once per occurrence, on the channels of the
// rules that name it and its job, and a good run resolves what it ends.
// (The end-to-end tests cover held, failed and stale against real
// receivers; these are the other kinds.)
func TestAlertsFireOnceAndResolve(t *testing.T) {
	b := bustest.Start(t, bus.TopologyOptions{})
	ctx := context.Background()
	alerts, err := b.KV(ctx, bus.BucketAlerts)
	if err != nil {
		t.Fatal(err)
	}
	jobsKV, _ := b.KV(ctx, bus.BucketJobs)
	holdsKV, _ := b.KV(ctx, bus.BucketHolds)
	rec := &recorder{}
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	s := New(Config{
		Rules: []Rule{
			{Kinds: events.AlertKinds, Jobs: []string{"*"}, Channels: []string{"hook"}},
			{Kinds: []string{events.AlertRunPartial}, Jobs: []string{"nightly"}, Channels: []string{"mail"}},
		},
		ConsoleURL: "https://adsync.example.com", Now: func() time.Time { return now },
	}, Stores{Jobs: &jobs.Store{KV: jobsKV}, Holds: &holds.Store{KV: holdsKV}, Alerts: alerts}, rec, b.JS, slog.New(slog.NewTextHandler(io.Discard, nil)))

	run := func(id string) events.Run {
		return events.Run{RunID: id, Job: "nightly", Trigger: events.TriggerSchedule, RequestedAt: now}
	}
	steps := []struct {
		name string
		do   func() error
		want []string
	}{
		{"a refused run", func() error {
			return s.HandleRejected(ctx, &events.SyncRejected{Run: run("r1"), Reasons: []string{"SAML single sign-on is enabled"}})
		}, []string{"run.rejected/firing/hook"}},
		{"refused again: still open, no repeat", func() error {
			return s.HandleRejected(ctx, &events.SyncRejected{Run: run("r2"), Reasons: []string{"SAML single sign-on is enabled"}})
		}, nil},
		{"a retry that is not the last", func() error {
			return s.HandleFailed(ctx, &events.DirectoryFailed{Run: run("r3"), Domain: "corp", Attempt: 2, MaxAttempts: 3, WillRetry: true, Reason: "down"})
		}, nil},
		{"the last attempt failed", func() error {
			return s.HandleFailed(ctx, &events.DirectoryFailed{Run: run("r3"), Domain: "corp", Attempt: 3, MaxAttempts: 3, Reason: "connection refused"})
		}, []string{"requeue.exhausted/firing/hook"}},
		{"partial, with drift", func() error {
			return s.HandleCompleted(ctx, &events.SyncCompleted{Run: run("r4"), Outcome: events.OutcomePartial, FinishedAt: now,
				Domains: []events.DomainResult{{Domain: "corp", Outcome: events.OutcomePartial, Failed: 2, Drift: 1}}})
		}, []string{"run.partial/firing/hook", "run.partial/firing/mail", "drift.found/firing/hook"}},
		{"a good run resolves all but the drift that remains", func() error {
			return s.HandleCompleted(ctx, &events.SyncCompleted{Run: run("r5"), Outcome: events.OutcomeCompleted, FinishedAt: now,
				Domains: []events.DomainResult{{Domain: "corp", Outcome: events.OutcomeCompleted, Drift: 1}}})
		}, []string{"run.partial/resolved/hook", "run.partial/resolved/mail", "requeue.exhausted/resolved/hook", "run.rejected/resolved/hook"}},
		{"the drift is gone", func() error {
			return s.HandleCompleted(ctx, &events.SyncCompleted{Run: run("r6"), Outcome: events.OutcomeCompleted, FinishedAt: now,
				Domains: []events.DomainResult{{Domain: "corp", Outcome: events.OutcomeCompleted}}})
		}, []string{"drift.found/resolved/hook"}},
		{"a dead letter", func() error {
			nc, err := nats.Connect(b.NC.ConnectedUrl())
			if err != nil {
				return err
			}
			defer nc.Close()
			m := nats.NewMsg(bus.DeadLetterSubjectPrefix + "diff-directory-page")
			m.Header.Set(bus.HeaderDeadReason, "malformed event")
			m.Data = []byte(`{"run_id":"r7","job":"nightly"}`)
			if _, err := b.JS.PublishMsg(ctx, m); err != nil {
				return err
			}
			if err := s.checkDeadLetters(ctx); err != nil {
				return err
			}
			return s.checkDeadLetters(ctx) // seen: not again
		}, []string{"deadletter.added/firing/hook"}},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got := rec.take()
		slices.Sort(got)
		want := slices.Clone(st.want)
		slices.Sort(want)
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s: sent %v, want %v", st.name, got, want)
		}
	}
}

package cli

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/internal/infra/bus/bustest"
)

// A `job run --wait` whose follower never sees the run's end (its ordered
// consumer was lost with a NATS server) still returns it, from the history.
func TestAwaitRunFindsTheEndInTheHistoryWhenItsFollowerMissedIt(t *testing.T) {
	b := bustest.Start(t, bus.TopologyOptions{})
	ctx := context.Background()
	s := &session{bus: b}
	c := &cli{env: Env{Stdout: io.Discard, Stderr: io.Discard, Now: time.Now}}
	now := time.Now().UTC()
	run := events.Run{RunID: "nightly-1", Job: "nightly", Trigger: events.TriggerManual, RequestedAt: now}
	done := &events.SyncCompleted{Run: run, Outcome: events.OutcomeCompleted, Reasons: []string{}, FinishedAt: now,
		Totals:  events.Counts{Created: 3},
		Domains: []events.DomainResult{{Domain: "corp", Outcome: events.OutcomeCompleted, Attempts: 1, Counts: events.Counts{Created: 3}}}}
	if err := b.Publish(ctx, &events.SyncRequested{Run: run}, done); err != nil {
		t.Fatal(err)
	}
	// The follower starts after the run ended: it never sees sync.completed.
	msgs, err := c.followRuns(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	defer msgs.Stop()
	old := recheckEvery
	recheckEvery = 50 * time.Millisecond
	t.Cleanup(func() { recheckEvery = old })

	sum, err := c.awaitRun(ctx, s, msgs, run.Job, run.RunID, time.Minute)
	if err != nil {
		t.Fatalf("awaitRun: %v", err)
	}
	if sum.RunID != run.RunID || sum.Outcome != events.OutcomeCompleted || sum.Totals.Created != 3 {
		t.Fatalf("summary %+v", sum)
	}

	// A run that has not ended is waited for until the time-out.
	other := events.Run{RunID: "nightly-2", Job: "nightly", Trigger: events.TriggerManual, RequestedAt: now}
	if err := b.Publish(ctx, &events.SyncRequested{Run: other}); err != nil {
		t.Fatal(err)
	}
	if sum, err := c.awaitRun(ctx, s, msgs, other.Job, other.RunID, 300*time.Millisecond); err == nil {
		t.Fatalf("a run that never ended returned %+v", sum)
	}
}

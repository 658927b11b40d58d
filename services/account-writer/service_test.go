package accountwriter

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/services/account-writer/accounts"
)

type published struct {
	mu  sync.Mutex
	evs []events.Event
	// failCompleted fails this many publications of sync.completed, as a
	// stream whose NATS leader just died does.
	failCompleted int
}

func (p *published) Publish(_ context.Context, evs ...events.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range evs {
		if _, ok := e.(*events.SyncCompleted); ok && p.failCompleted > 0 {
			p.failCompleted--
			return errors.New("nats: no response from stream")
		}
	}
	p.evs = append(p.evs, evs...)
	return nil
}

// publishedOf returns the published events of type T.
func publishedOf[T events.Event](p *published) []T {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []T
	for _, e := range p.evs {
		if v, ok := e.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

func (p *published) completed() []*events.SyncCompleted { return publishedOf[*events.SyncCompleted](p) }
func (p *published) applied() []*events.PlanApplied     { return publishedOf[*events.PlanApplied](p) }

type noMarks struct{}

func (noMarks) Put(context.Context, string, events.Watermark) error { return nil }

// TestABatchRedeliveredAfterTheRunsEndFailedEndsTheRun: the last batch of a
// domain finishes it, and the run's end then fails (the stream does not
// take sync.completed); the batch is redelivered and must end the run — it used to
// be taken as a mere repeat, and the run stayed "running" for ever. Found
// by the cluster test that kills the leader of account-writer's consumer.
func TestABatchRedeliveredAfterTheRunsEndFailedEndsTheRun(t *testing.T) {
	ctx := context.Background()
	pub := &published{failCompleted: 1}
	s, err := New(ctx, Config{DBPath: filepath.Join(t.TempDir(), "accounts.db")}, pub, noMarks{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	run := events.Run{RunID: "r1", Job: "j"}
	// diff's word first, then the domain's only batch.
	if err := s.HandleChangesCompleted(ctx, &events.ChangesCompleted{Run: run, Domain: "corp", Domains: []string{"corp"}, Attempt: 1,
		Outcome: events.OutcomeCompleted, TotalBatches: 1, Attempts: 1}); err != nil {
		t.Fatal(err)
	}
	b := &events.AccountChanges{Run: run, Domain: "corp", Attempt: 1, Batch: "p1", Changes: []events.AccountChange{{
		Op: events.OpCreate, ExternalID: "g1", Version: 1, Entry: &events.DirectoryEntry{ID: "g1", Username: "alice"}}}}
	if err := s.HandleChanges(ctx, b); err == nil {
		t.Fatal("the run's end failed, yet the batch was handled")
	}
	if n := len(pub.completed()); n != 0 {
		t.Fatalf("%d sync.completed stored while the stream refused it", n)
	}
	if err := s.HandleChanges(ctx, b); err != nil { // redelivered
		t.Fatal(err)
	}
	done := pub.completed()
	if len(done) != 1 || done[0].Outcome != events.OutcomeCompleted || done[0].Totals.Created != 1 {
		t.Fatalf("sync.completed after the redelivery: %+v", done)
	}
	if err := s.HandleChanges(ctx, b); err != nil { // redelivered again: nothing more
		t.Fatal(err)
	}
	if n := len(pub.completed()); n != 1 {
		t.Fatalf("%d sync.completed after a second redelivery, want 1", n)
	}
}

// flakyMarks fails its first Put, as a watermark bucket without a leader
// does.
type flakyMarks struct{ calls int }

func (m *flakyMarks) Put(context.Context, string, events.Watermark) error {
	m.calls++
	if m.calls == 1 {
		return errors.New("nats: no response from stream")
	}
	return nil
}

// TestADecisionRedeliveredAfterItsEndFailedEndsIt: an approved held plan
// is applied, then saving the domain's watermark fails; the redelivered
// decision must save it and publish plan.applied (it used to be ignored as
// a decision on a plan no longer held), and apply nothing twice.
func TestADecisionRedeliveredAfterItsEndFailedEndsIt(t *testing.T) {
	ctx := context.Background()
	pub := &published{}
	marks := &flakyMarks{}
	s, err := New(ctx, Config{DBPath: filepath.Join(t.TempDir(), "accounts.db")}, pub, marks)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	run := events.Run{RunID: "r1", Job: "j"}
	b := &events.AccountChanges{Run: run, Domain: "corp", Attempt: 1, Batch: "p1", Changes: []events.AccountChange{{
		Op: events.OpCreate, ExternalID: "g1", Version: 1, Entry: &events.DirectoryEntry{ID: "g1", Username: "alice"}}}}
	if err := s.HandleChanges(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := s.HandleChangesCompleted(ctx, &events.ChangesCompleted{Run: run, Domain: "corp", Domains: []string{"corp"}, Attempt: 1,
		Outcome: events.OutcomeHeld, Hold: &events.Hold{Reasons: []string{"test"}}, TotalBatches: 1, Attempts: 1,
		Watermark: &events.Watermark{Kind: events.WatermarkUSN, USN: 5}}); err != nil {
		t.Fatal(err)
	}
	d := &events.PlanDecided{Run: run, Domain: "corp", Decision: events.DecisionApprove, DecidedBy: "admin"}
	if err := s.HandleDecided(ctx, d); err == nil {
		t.Fatal("saving the watermark failed, yet the decision was handled")
	}
	if err := s.HandleDecided(ctx, d); err != nil { // redelivered
		t.Fatal(err)
	}
	if marks.calls != 2 {
		t.Fatalf("watermark saved %d times, want 2 (once failed)", marks.calls)
	}
	a := pub.applied()
	if len(a) != 1 || a[0].Decision != events.DecisionApprove || a[0].Counts.Created != 1 {
		t.Fatalf("plan.applied: %+v", a)
	}
	list, err := s.Store().List(ctx, accounts.ListFilter{})
	if err != nil || len(list) != 1 {
		t.Fatalf("accounts %v, %v", list, err)
	}
}

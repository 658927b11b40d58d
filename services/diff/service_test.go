package diff

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/holds"
)

// recorder is a fake bus that keeps what the service publishes. Like
// JetStream within its duplicate window, it stores a message id once.
type recorder struct {
	mu  sync.Mutex
	evs []events.Event
	ids map[string]bool
	// seen, when set, is called with each event as it is published.
	seen func(events.Event)
}

func (r *recorder) Publish(_ context.Context, evs ...events.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ids == nil {
		r.ids = map[string]bool{}
	}
	for _, e := range evs {
		if r.ids[e.MessageID()] {
			continue
		}
		r.ids[e.MessageID()] = true
		if r.seen != nil {
			r.seen(e)
		}
		r.evs = append(r.evs, e)
	}
	return nil
}

func (r *recorder) take() []events.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.evs
	r.evs = nil
	return out
}

// fakeDirectory answers lookups: ids in elsewhere are found out of scope,
// ids in missed are found in scope (the read missed them).
type fakeDirectory struct{ elsewhere, missed map[string]bool }

func (f fakeDirectory) Lookup(_ context.Context, _ string, ids []string) (Found, error) {
	out := Found{DNs: map[string]string{}, InScope: map[string]bool{}}
	for _, id := range ids {
		switch {
		case f.elsewhere[id]:
			out.DNs[id] = "CN=" + id + ",OU=Elsewhere"
		case f.missed[id]:
			out.DNs[id] = "CN=" + id + ",OU=Users"
			out.InScope[id] = true
		}
	}
	return out, nil
}

// memHolds keeps held plans in memory.
type memHolds struct {
	mu sync.Mutex
	m  map[string]holds.Plan
}

func (h *memHolds) Put(_ context.Context, p holds.Plan) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.m[p.Domain] = p
	return nil
}

func (h *memHolds) Get(_ context.Context, d string) (*holds.Plan, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if p, ok := h.m[d]; ok {
		return &p, nil
	}
	return nil, nil
}

func (h *memHolds) Delete(_ context.Context, d, run string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m[d].RunID == run {
		delete(h.m, d)
	}
	return nil
}

func newService(t *testing.T) (*Service, *recorder) {
	t.Helper()
	return newServiceWith(t, Config{})
}

// newServiceWith is newService with cfg (its DBPath is set here).
func newServiceWith(t *testing.T, cfg Config) (*Service, *recorder) {
	t.Helper()
	rec := &recorder{}
	cfg.DBPath = filepath.Join(t.TempDir(), "diff.db")
	s, err := New(context.Background(), cfg, rec,
		fakeDirectory{elsewhere: map[string]bool{"id-moved": true}, missed: map[string]bool{"id-missed": true}}, &memHolds{m: map[string]holds.Plan{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, rec
}

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

type runOf struct {
	id      string
	attempt int
	at      time.Time
}

func (r runOf) page(seq int, users ...string) *events.DirectoryPage {
	p := &events.DirectoryPage{Run: events.Run{RunID: r.id, Job: "j"}, Domain: "corp", Attempt: r.attempt, Seq: seq, ObservedAt: r.at}
	for _, u := range users {
		p.Entries = append(p.Entries, events.DirectoryEntry{ID: "id-" + u, DN: "CN=" + u, Username: u})
	}
	return p
}

func (r runOf) completed(pages, entries int) *events.DirectoryCompleted {
	return &events.DirectoryCompleted{Run: events.Run{RunID: r.id, Job: "j"}, Domain: "corp", Domains: []string{"corp"}, Attempt: r.attempt,
		Pages: pages, Entries: entries, StartedAt: r.at, FinishedAt: r.at.Add(time.Second)}
}

func (r runOf) failed(pages int) *events.DirectoryFailed {
	return &events.DirectoryFailed{Run: events.Run{RunID: r.id, Job: "j"}, Domain: "corp", Domains: []string{"corp"}, Attempt: r.attempt,
		Reason: "connection reset", PagesRead: pages, FailedAt: r.at}
}

// ended returns the ChangesCompleted among evs, and the changes by op.
func ended(t *testing.T, evs []events.Event) (*events.ChangesCompleted, map[string][]string) {
	t.Helper()
	var done *events.ChangesCompleted
	ops := map[string][]string{}
	for _, e := range evs {
		switch v := e.(type) {
		case *events.ChangesCompleted:
			done = v
		case *events.AccountChanges:
			for _, c := range v.Changes {
				ops[c.Op] = append(ops[c.Op], c.ExternalID)
			}
		}
	}
	return done, ops
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestCompletionBeforeOrAfterTheLastPageFinishesOnce(t *testing.T) {
	for _, completionFirst := range []bool{true, false} {
		name := "pages first"
		if completionFirst {
			name = "completion first"
		}
		t.Run(name, func(t *testing.T) {
			s, rec := newService(t)
			ctx := context.Background()
			r := runOf{"r1", 1, t0}
			if completionFirst {
				must(t, s.HandleCompleted(ctx, r.completed(2, 3)))
				if done, _ := ended(t, rec.take()); done != nil {
					t.Fatal("finished before its pages arrived")
				}
			}
			must(t, s.HandlePage(ctx, r.page(1, "a", "b")))
			must(t, s.HandlePage(ctx, r.page(2, "c")))
			must(t, s.HandlePage(ctx, r.page(2, "c"))) // redelivered
			if !completionFirst {
				must(t, s.HandleCompleted(ctx, r.completed(2, 3)))
			}
			must(t, s.HandleCompleted(ctx, r.completed(2, 3))) // redelivered
			done, ops := ended(t, rec.take())
			if done == nil || done.Outcome != events.OutcomeCompleted || done.Planned.Created != 3 || done.Batches != 2 {
				t.Fatalf("end: %+v", done)
			}
			if len(ops[events.OpCreate]) != 3 {
				t.Fatalf("creates: %v", ops)
			}
		})
	}
}

func TestOnlyACompleteReadDeactivates(t *testing.T) {
	s, rec := newService(t)
	ctx := context.Background()
	first := runOf{"r1", 1, t0}
	must(t, s.HandlePage(ctx, first.page(1, "a", "b", "c")))
	must(t, s.HandleCompleted(ctx, first.completed(1, 3)))
	rec.take()

	// A read that fails after one page deactivates nobody.
	broken := runOf{"r2", 1, t0.Add(time.Hour)}
	must(t, s.HandlePage(ctx, broken.page(1, "a")))
	must(t, s.HandleFailed(ctx, broken.failed(1)))
	done, ops := ended(t, rec.take())
	if done == nil || done.Outcome != events.OutcomeFailed || len(ops[events.OpDeactivate]) != 0 {
		t.Fatalf("failed read: %+v %v", done, ops)
	}

	// A complete read without b deactivates b only.
	full := runOf{"r3", 1, t0.Add(2 * time.Hour)}
	must(t, s.HandlePage(ctx, full.page(1, "a", "c")))
	must(t, s.HandleCompleted(ctx, full.completed(1, 2)))
	done, ops = ended(t, rec.take())
	if done.Planned.Deactivated != 1 || len(ops[events.OpDeactivate]) != 1 || ops[events.OpDeactivate][0] != "id-b" {
		t.Fatalf("complete read: %+v %v", done, ops)
	}
}

func TestRetriedAttemptDeactivatesOnlyWhatItDidNotSee(t *testing.T) {
	s, rec := newService(t)
	ctx := context.Background()
	base := runOf{"r1", 1, t0}
	must(t, s.HandlePage(ctx, base.page(1, "a", "b")))
	must(t, s.HandleCompleted(ctx, base.completed(1, 2)))
	rec.take()

	// Attempt 1 dies after a page; attempt 2 reads everything.
	a1 := runOf{"r2", 1, t0.Add(time.Hour)}
	a2 := runOf{"r2", 2, t0.Add(time.Hour + time.Minute)}
	must(t, s.HandlePage(ctx, a1.page(1, "a")))
	must(t, s.HandlePage(ctx, a2.page(1, "a", "b")))
	must(t, s.HandleCompleted(ctx, a2.completed(1, 2)))
	done, ops := ended(t, rec.take())
	if done == nil || len(ops[events.OpDeactivate]) != 0 {
		t.Fatalf("retried attempt deactivated %v", ops[events.OpDeactivate])
	}
}

func TestReplayedOlderPageIsIgnored(t *testing.T) {
	s, rec := newService(t)
	ctx := context.Background()
	newer := runOf{"r2", 1, t0.Add(time.Hour)}
	p := newer.page(1, "a")
	p.Entries[0].Email = "new@x"
	must(t, s.HandlePage(ctx, p))
	rec.take()
	older := runOf{"r1", 1, t0}
	old := older.page(1, "a")
	old.Entries[0].Email = "old@x"
	must(t, s.HandlePage(ctx, old))
	if _, ops := ended(t, rec.take()); len(ops) != 0 {
		t.Fatalf("an older observation produced changes: %v", ops)
	}
}

func TestDeletionGuardHoldsAndDiscardPutsTheRecordBack(t *testing.T) {
	s, rec := newService(t)
	ctx := context.Background()
	base := runOf{"r1", 1, t0}
	must(t, s.HandlePage(ctx, base.page(1, "a", "b", "c", "d", "e", "f", "g", "h", "i", "j")))
	must(t, s.HandleCompleted(ctx, base.completed(1, 10)))
	rec.take()

	// Whoever hears "held" can act on the record at once: it is written
	// before the event goes out.
	var unrecorded []string
	rec.seen = func(e events.Event) {
		if d, ok := e.(*events.ChangesCompleted); ok && d.Outcome == events.OutcomeHeld {
			if p, _ := s.holds.Get(ctx, d.Domain); p == nil || p.RunID != d.RunID {
				unrecorded = append(unrecorded, d.RunID)
			}
		}
	}
	// Three of ten gone at once: over a 10% limit.
	cut := runOf{"r2", 1, t0.Add(time.Hour)}
	c := cut.completed(1, 7)
	c.Safety = events.Safety{MaxDeactivations: 500, MaxDeactivationPercent: 10, MaxResultDropPercent: 10}
	must(t, s.HandlePage(ctx, cut.page(1, "a", "b", "c", "d", "e", "f", "g")))
	must(t, s.HandleCompleted(ctx, c))
	done, ops := ended(t, rec.take())
	if done.Outcome != events.OutcomeHeld || done.Hold == nil || done.Hold.Deactivations != 3 || done.Hold.ActiveBefore != 10 || len(done.Hold.Reasons) != 2 {
		t.Fatalf("held plan: %+v %+v", done, done.Hold)
	}
	if len(ops[events.OpDeactivate]) != 3 {
		t.Fatalf("the held plan lists its deactivations: %v", ops)
	}
	if p, _ := s.holds.Get(ctx, "corp"); p == nil || p.RunID != "r2" {
		t.Fatalf("hold not recorded: %+v", p)
	}
	if len(unrecorded) != 0 {
		t.Fatalf("held runs %v were announced before their hold was recorded", unrecorded)
	}

	// Discarded: diff's record is as before, so the next identical read
	// plans the same deactivations again.
	must(t, s.HandleDecided(ctx, &events.PlanDecided{Run: cut.page(1).Run, Domain: "corp", Decision: events.DecisionDiscard}))
	if p, _ := s.holds.Get(ctx, "corp"); p != nil {
		t.Fatal("hold not lifted")
	}
	again := runOf{"r3", 1, t0.Add(2 * time.Hour)}
	c3 := again.completed(1, 7)
	must(t, s.HandlePage(ctx, again.page(1, "a", "b", "c", "d", "e", "f", "g")))
	must(t, s.HandleCompleted(ctx, c3))
	done, ops = ended(t, rec.take())
	if len(ops[events.OpDeactivate]) != 3 || done.Planned.Deactivated != 3 {
		t.Fatalf("after discard: %v %+v", ops, done.Planned)
	}
}

func TestFailedAndDryRunsLeaveNoTrace(t *testing.T) {
	// The reader's word on an attempt may come before its last page: the
	// attempt is then finished in that page's transaction.
	for _, endingFirst := range []bool{false, true} {
		t.Run(fmt.Sprintf("ending first %v", endingFirst), func(t *testing.T) {
			s, rec := newService(t)
			ctx := context.Background()
			deliver := func(p *events.DirectoryPage, ending func() error) {
				t.Helper()
				if endingFirst {
					must(t, ending())
					must(t, s.HandlePage(ctx, p))
				} else {
					must(t, s.HandlePage(ctx, p))
					must(t, ending())
				}
			}
			base := runOf{"r1", 1, t0}
			must(t, s.HandlePage(ctx, base.page(1, "a", "b")))
			must(t, s.HandleCompleted(ctx, base.completed(1, 2)))
			rec.take()

			broken := runOf{"r2", 1, t0.Add(time.Hour)}
			p := broken.page(1, "a", "new")
			p.Entries[0].Email = "changed@x"
			deliver(p, func() error { return s.HandleFailed(ctx, broken.failed(1)) })
			rec.take()

			dry := runOf{"r3", 1, t0.Add(2 * time.Hour)}
			dp := dry.page(1, "a", "new")
			dp.DryRun = true
			dp.Entries[0].Email = "changed@x"
			dc := dry.completed(1, 2)
			dc.DryRun = true
			deliver(dp, func() error { return s.HandleCompleted(ctx, dc) })
			done, ops := ended(t, rec.take())
			if done.Outcome != events.OutcomeDryRun || len(ops[events.OpCreate]) != 1 || len(ops[events.OpUpdate]) != 1 || len(ops[events.OpDeactivate]) != 1 {
				t.Fatalf("dry run plan: %s %v", done.Outcome, ops)
			}

			// The same changes are planned again for real: neither the failed
			// read nor the dry run recorded them.
			real := runOf{"r4", 1, t0.Add(3 * time.Hour)}
			rp := real.page(1, "a", "new")
			rp.Entries[0].Email = "changed@x"
			must(t, s.HandlePage(ctx, rp))
			must(t, s.HandleCompleted(ctx, real.completed(1, 2)))
			_, ops = ended(t, rec.take())
			if len(ops[events.OpCreate]) != 1 || len(ops[events.OpUpdate]) != 1 || len(ops[events.OpDeactivate]) != 1 {
				t.Fatalf("real run after failed and dry runs: %v", ops)
			}
		})
	}
}

func TestGoneAccountsAreRemovedOrOutOfScope(t *testing.T) {
	s, rec := newService(t)
	ctx := context.Background()
	base := runOf{"r1", 1, t0}
	must(t, s.HandlePage(ctx, base.page(1, "a", "moved", "deleted")))
	must(t, s.HandleCompleted(ctx, base.completed(1, 3)))
	rec.take()
	next := runOf{"r2", 1, t0.Add(time.Hour)}
	must(t, s.HandlePage(ctx, next.page(1, "a")))
	must(t, s.HandleCompleted(ctx, next.completed(1, 1)))
	reasons := map[string]string{}
	for _, e := range rec.take() {
		if b, ok := e.(*events.AccountChanges); ok {
			for _, c := range b.Changes {
				reasons[c.ExternalID] = c.Reason
			}
		}
	}
	if reasons["id-moved"] != events.ReasonOutOfScope || reasons["id-deleted"] != events.ReasonDirectoryRemoved {
		t.Fatalf("reasons %v", reasons)
	}
}

// An account missing from a complete read that the directory still has in
// the sync's scope (it changed while the read went on) is not deactivated,
// and the next read that returns it finds nothing to change.
func TestAnAccountTheReadMissedInScopeIsKept(t *testing.T) {
	s, rec := newService(t)
	ctx := context.Background()
	base := runOf{"r1", 1, t0}
	must(t, s.HandlePage(ctx, base.page(1, "a", "missed", "deleted")))
	must(t, s.HandleCompleted(ctx, base.completed(1, 3)))
	rec.take()
	next := runOf{"r2", 1, t0.Add(time.Hour)}
	must(t, s.HandlePage(ctx, next.page(1, "a")))
	must(t, s.HandleCompleted(ctx, next.completed(1, 1)))
	done, ops := ended(t, rec.take())
	if done == nil || done.Outcome != events.OutcomeCompleted {
		t.Fatalf("run 2 ended %+v", done)
	}
	if got := ops[events.OpDeactivate]; len(got) != 1 || got[0] != "id-deleted" {
		t.Fatalf("deactivated %v, want only id-deleted", got)
	}
	third := runOf{"r3", 1, t0.Add(2 * time.Hour)}
	must(t, s.HandlePage(ctx, third.page(1, "a", "missed")))
	must(t, s.HandleCompleted(ctx, third.completed(1, 2)))
	done, ops = ended(t, rec.take())
	if done == nil || len(ops) != 0 || done.Planned.Unchanged != 2 {
		t.Fatalf("run 3: %+v, changes %v", done, ops)
	}
}

// TestAnEntryTwiceInAPageIsRecordedAsItsLastState: a directory that returns
// a new user twice in one page (both new to diff) gets two creations, as
// before new entries were written together; diff records the last state,
// and the next run changes nothing. The page spans several of the
// statements new entries are written with.
func TestAnEntryTwiceInAPageIsRecordedAsItsLastState(t *testing.T) {
	s, rec := newService(t)
	ctx := context.Background()
	r1 := runOf{"r1", 1, t0}
	var users []string
	for i := range 2*createdChunk + 3 {
		users = append(users, fmt.Sprintf("u%03d", i))
	}
	// The same new user in the first and the third statement's rows, its
	// second state last.
	p := r1.page(1, append(append(slices.Clone(users[:createdChunk]), "dup"), users[createdChunk:]...)...)
	again := p.Entries[createdChunk]
	again.Email = "second@x"
	p.Entries = append(p.Entries, again)
	must(t, s.HandlePage(ctx, p))
	must(t, s.HandleCompleted(ctx, r1.completed(1, len(p.Entries))))
	_, ops := ended(t, rec.take())
	if len(ops[events.OpCreate]) != len(users)+2 {
		t.Fatalf("first run: %d creations, want %d", len(ops[events.OpCreate]), len(users)+2)
	}
	r2 := runOf{"r2", 1, t0.Add(time.Hour)}
	p2 := r2.page(1, users...)
	p2.Entries = append(p2.Entries, again)
	must(t, s.HandlePage(ctx, p2))
	must(t, s.HandleCompleted(ctx, r2.completed(1, len(p2.Entries))))
	done, ops := ended(t, rec.take())
	if len(ops) != 0 || done.Planned.Unchanged != len(users)+1 {
		t.Fatalf("second run, the same directory with the user's last state: %v, %+v", ops, done.Planned)
	}
}

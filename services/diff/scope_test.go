package diff

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/holds"
)

// deactivations returns the deactivations among evs with their reasons.
func deactivations(evs []events.Event) map[string]string {
	out := map[string]string{}
	for _, e := range evs {
		if b, ok := e.(*events.AccountChanges); ok {
			for _, c := range b.Changes {
				if c.Op == events.OpDeactivate {
					out[c.ExternalID] = c.Reason
				}
			}
		}
	}
	return out
}

func sameReasons(t *testing.T, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("deactivated %v, want %v", got, want)
	}
	for id, r := range want {
		if got[id] != r {
			t.Errorf("%s: reason %q, want %q", id, got[id], r)
		}
	}
}

// firstSync records users a..: one full run.
func firstSync(t *testing.T, s *Service, rec *recorder, users ...string) {
	t.Helper()
	ctx := context.Background()
	base := runOf{"r1", 1, t0}
	must(t, s.HandlePage(ctx, base.page(1, users...)))
	must(t, s.HandleCompleted(ctx, base.completed(1, len(users))))
	rec.take()
}

// A delta read's departures: tombstones deactivate as removed, users that
// left the scope as out of scope; an id diff never recorded changes
// nothing, and the absent users of an unswept delta read are not gone.
func TestDeltaPageDepartures(t *testing.T) {
	s, rec := newService(t)
	ctx := context.Background()
	firstSync(t, s, rec, "a", "mover", "deleted", "leaver", "quiet")

	delta := runOf{"r2", 1, t0.Add(time.Hour)}
	p := delta.page(1)
	p.Entries = []events.DirectoryEntry{}
	p.Gone = []string{"id-deleted", "id-never-seen"}
	p.OutOfScope = []string{"id-mover", "id-leaver", "id-stranger"}
	c := delta.completed(1, 0)
	c.Mode = events.ModeDelta
	must(t, s.HandlePage(ctx, p))
	must(t, s.HandleCompleted(ctx, c))
	evs := rec.take()
	if done, _ := ended(t, evs); done == nil || done.Outcome != events.OutcomeCompleted || done.Planned.Deactivated != 3 {
		t.Fatalf("delta run ended %+v", done)
	}
	sameReasons(t, deactivations(evs), map[string]string{
		"id-deleted": events.ReasonDirectoryRemoved, "id-mover": events.ReasonOutOfScope, "id-leaver": events.ReasonOutOfScope})

	// Told again (a later delta read from an older watermark): nothing.
	again := runOf{"r3", 1, t0.Add(2 * time.Hour)}
	p = again.page(1)
	p.Entries, p.Gone, p.OutOfScope = []events.DirectoryEntry{}, []string{"id-deleted"}, []string{"id-mover"}
	c = again.completed(1, 0)
	c.Mode = events.ModeDelta
	must(t, s.HandlePage(ctx, p))
	must(t, s.HandleCompleted(ctx, c))
	sameReasons(t, deactivations(rec.take()), map[string]string{})
}

// A swept delta read (every id in scope listed as kept) finds the users it
// did not list gone, as a full read does, classified by the directory.
func TestSweptDeltaReadFindsTheGone(t *testing.T) {
	s, rec := newService(t)
	ctx := context.Background()
	firstSync(t, s, rec, "a", "b", "moved", "deleted")

	delta := runOf{"r2", 1, t0.Add(time.Hour)}
	changed := delta.page(1, "b")
	changed.Entries[0].Email = "b@new"
	sweep := delta.page(2)
	sweep.Entries, sweep.Kept = []events.DirectoryEntry{}, []string{"id-a", "id-b"}
	c := delta.completed(2, 1)
	c.Mode, c.Swept, c.InScope = events.ModeDelta, true, 2
	must(t, s.HandlePage(ctx, changed))
	must(t, s.HandlePage(ctx, sweep))
	must(t, s.HandleCompleted(ctx, c))
	evs := rec.take()
	done, ops := ended(t, evs)
	if done == nil || done.Outcome != events.OutcomeCompleted || len(ops[events.OpUpdate]) != 1 {
		t.Fatalf("swept delta run ended %+v, %v", done, ops)
	}
	sameReasons(t, deactivations(evs), map[string]string{"id-moved": events.ReasonOutOfScope, "id-deleted": events.ReasonDirectoryRemoved})
}

// A swept delta read that lists no user while the domain has active
// accounts is held like an empty full read.
func TestEmptySweepIsHeld(t *testing.T) {
	s, rec := newService(t)
	ctx := context.Background()
	firstSync(t, s, rec, "a", "b")
	delta := runOf{"r2", 1, t0.Add(time.Hour)}
	c := delta.completed(0, 0)
	c.Mode, c.Swept = events.ModeDelta, true
	must(t, s.HandleCompleted(ctx, c))
	if done, _ := ended(t, rec.take()); done == nil || done.Outcome != events.OutcomeHeld {
		t.Fatalf("empty sweep ended %+v, want held", done)
	}
}

// txProbe is a directory that checks, on every lookup, that diff holds no
// transaction open: the state has one connection, so a transaction begun
// meanwhile waits for the open one, and times out.
type txProbe struct {
	fakeDirectory
	st       **State
	lookups  int
	openedTx int
}

func (p *txProbe) Lookup(ctx context.Context, domain string, ids []string) (Found, error) {
	p.lookups++
	probe, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if err := (*p.st).InTx(probe, func(*Tx) error { return nil }); err != nil {
		p.openedTx++
	}
	return p.fakeDirectory.Lookup(ctx, domain, ids)
}

// The directory is asked where the missing accounts are with no
// transaction of diff's open, whichever of the last page and the reader's
// word arrives last.
func TestLookupWithNoTransactionOpen(t *testing.T) {
	for _, endingFirst := range []bool{false, true} {
		rec := &recorder{}
		var st *State
		dir := &txProbe{fakeDirectory: fakeDirectory{elsewhere: map[string]bool{"id-moved": true}}, st: &st}
		s, err := New(context.Background(), Config{DBPath: filepath.Join(t.TempDir(), "diff.db")}, rec, dir, &memHolds{m: map[string]holds.Plan{}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		st = s.state
		ctx := context.Background()
		// The probe sees a transaction that is open.
		must(t, st.InTx(ctx, func(*Tx) error { _, err := dir.Lookup(ctx, "corp", nil); return err }))
		if dir.openedTx != 1 {
			t.Fatal("the probe does not see an open transaction")
		}
		dir.lookups, dir.openedTx = 0, 0

		firstSync(t, s, rec, "a", "moved", "deleted")
		next := runOf{"r2", 1, t0.Add(time.Hour)}
		page, c := next.page(1, "a"), next.completed(1, 1)
		if endingFirst {
			must(t, s.HandleCompleted(ctx, c))
			must(t, s.HandlePage(ctx, page))
		} else {
			must(t, s.HandlePage(ctx, page))
			must(t, s.HandleCompleted(ctx, c))
		}
		sameReasons(t, deactivations(rec.take()), map[string]string{"id-moved": events.ReasonOutOfScope, "id-deleted": events.ReasonDirectoryRemoved})
		if dir.lookups != 1 || dir.openedTx != 0 {
			t.Fatalf("ending first %v: %d lookups, %d of them with a transaction open", endingFirst, dir.lookups, dir.openedTx)
		}
	}
}

package diff

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/adsync/adsync/events"
)

// applyNowOf returns ApplyNow of each page batch among evs, in order.
func applyNowOf(evs []events.Event) []bool {
	var out []bool
	for _, e := range evs {
		if b, ok := e.(*events.AccountChanges); ok && b.Batch[0] == 'p' {
			out = append(out, b.ApplyNow)
		}
	}
	return out
}

// A domain's first sync has its pages applied as they arrive: diff has no
// record of the domain and no last good run, and the run is not a dry run.
// Any other run's pages wait for the whole plan.
func TestAFirstSyncIsAppliedAsItReads(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		stream bool
		before func(t *testing.T, s *Service)
		dryRun bool
		want   []bool
	}{
		{name: "first sync", stream: true, want: []bool{true, true}},
		{name: "stream_first_sync off", stream: false, want: []bool{false, false}},
		{name: "dry run", stream: true, dryRun: true, want: []bool{false, false}},
		{name: "a domain diff has a record of", stream: true, want: []bool{false, false}, before: func(t *testing.T, s *Service) {
			// A delta read keeps its record but is no last good run.
			r0 := runOf{"r0", 1, t0.Add(-time.Hour)}
			must(t, s.HandlePage(ctx, r0.page(1, "z")))
			c := r0.completed(1, 1)
			c.Mode = events.ModeDelta
			must(t, s.HandleCompleted(ctx, c))
		}},
		{name: "a last good run, no record left", stream: true, want: []bool{false, false}, before: func(t *testing.T, s *Service) {
			must(t, s.state.InTx(ctx, func(tx *Tx) error { return tx.SetLastGood("corp", "r0", 2) }))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, rec := newServiceWith(t, Config{StreamFirstSync: tt.stream})
			if tt.before != nil {
				tt.before(t, s)
			}
			rec.take()
			r := runOf{"r1", 1, t0}
			for seq, users := range [][]string{{"a", "b"}, {"c"}} {
				p := r.page(seq+1, users...)
				p.DryRun = tt.dryRun
				must(t, s.HandlePage(ctx, p))
			}
			if got := applyNowOf(rec.take()); !slices.Equal(got, tt.want) {
				t.Fatalf("ApplyNow of the page batches: %v, want %v", got, tt.want)
			}
		})
	}
}

// The decision holds for the whole run: a later attempt of a first sync
// (its first attempt recorded entries) is applied as it reads too, and a
// page with a deactivation — a user an earlier page created, now disabled —
// waits for the plan the deletion guard checks.
func TestAFirstSyncKeepsItsDecisionButNotForDeactivations(t *testing.T) {
	ctx := context.Background()
	s, rec := newServiceWith(t, Config{StreamFirstSync: true})
	first := runOf{"r1", 1, t0}
	must(t, s.HandlePage(ctx, first.page(1, "a")))
	second := runOf{"r1", 2, t0.Add(time.Minute)}
	must(t, s.HandlePage(ctx, second.page(1, "a", "b")))
	p := second.page(2, "c")
	p.Entries = append(p.Entries, events.DirectoryEntry{ID: "id-a", DN: "CN=a", Username: "a", Disabled: true, DisabledReason: events.ReasonDirectoryDisabled})
	must(t, s.HandlePage(ctx, p))
	evs := rec.take()
	if got, want := applyNowOf(evs), []bool{true, true, false}; !slices.Equal(got, want) {
		t.Fatalf("ApplyNow of the page batches: %v, want %v", got, want)
	}
	if _, ops := ended(t, evs); len(ops[events.OpDeactivate]) != 1 {
		t.Fatalf("changes: %v, want a's deactivation", ops)
	}
}

// A first sync whose read fails takes its record back, as any failed run,
// whether its pages were applied as they arrived or not: the next run
// plans every account again (the writer finds those it created in place).
func TestAFailedFirstSyncGoesBack(t *testing.T) {
	ctx := context.Background()
	for _, stream := range []bool{true, false} {
		t.Run(fmt.Sprintf("stream_first_sync %v", stream), func(t *testing.T) {
			s, rec := newServiceWith(t, Config{StreamFirstSync: stream})
			broken := runOf{"r1", 1, t0}
			must(t, s.HandlePage(ctx, broken.page(1, "a", "b")))
			must(t, s.HandleFailed(ctx, broken.failed(1)))
			if done, _ := ended(t, rec.take()); done == nil || done.Outcome != events.OutcomeFailed {
				t.Fatalf("end of the broken read: %+v", done)
			}
			next := runOf{"r2", 1, t0.Add(time.Hour)}
			must(t, s.HandlePage(ctx, next.page(1, "a", "b", "c")))
			must(t, s.HandleCompleted(ctx, next.completed(1, 3)))
			evs := rec.take()
			done, ops := ended(t, evs)
			if done == nil || done.Outcome != events.OutcomeCompleted {
				t.Fatalf("end of the next run: %+v", done)
			}
			if got, want := ops[events.OpCreate], []string{"id-a", "id-b", "id-c"}; !slices.Equal(got, want) {
				t.Fatalf("the next run creates %v, want %v (all changes: %v)", got, want, ops)
			}
			if got := applyNowOf(evs); !slices.Equal(got, []bool{stream}) {
				t.Fatalf("the next run's page applies at once: %v, want %v (a first sync again)", got, stream)
			}
		})
	}
}

package diff

import (
	"context"
	"testing"
	"time"
)

// A read redelivered while the first one still runs (a reader that stalled
// longer than the ack wait) is a second attempt of the same run: once one
// attempt finished the domain, the other's pages and ending change
// nothing. (Before, the late attempt finished the domain again with its
// own seen marks forgotten, and planned to deactivate what it had read
// before the first attempt finished.)
func TestLateAttemptAfterTheDomainFinishedChangesNothing(t *testing.T) {
	s, rec := newService(t)
	ctx := context.Background()
	base := runOf{"r1", 1, t0}
	must(t, s.HandlePage(ctx, base.page(1, "a", "b", "c")))
	must(t, s.HandleCompleted(ctx, base.completed(1, 3)))
	rec.take()

	a1 := runOf{"r2", 1, t0.Add(time.Hour)}
	a2 := runOf{"r2", 2, t0.Add(time.Hour + time.Minute)}
	must(t, s.HandlePage(ctx, a2.page(1, "a")))
	must(t, s.HandlePage(ctx, a1.page(1, "a", "b", "c")))
	must(t, s.HandleCompleted(ctx, a1.completed(1, 3)))
	if done, ops := ended(t, rec.take()); done == nil || len(ops) != 0 {
		t.Fatalf("first attempt: done %v, changes %v", done, ops)
	}
	must(t, s.HandlePage(ctx, a2.page(2, "b", "c")))
	must(t, s.HandleCompleted(ctx, a2.completed(2, 3)))
	if evs := rec.take(); len(evs) != 0 {
		done, ops := ended(t, evs)
		t.Fatalf("the late attempt published %d events: end %+v, changes %v", len(evs), done, ops)
	}
}

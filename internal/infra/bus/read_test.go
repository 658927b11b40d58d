package bus_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/internal/infra/bus/bustest"
)

// Paging a stream newest first: each page goes on below the last, deleted
// messages are skipped, and the last page says nothing older is left.
func TestEachNewestPagesBackwards(t *testing.T) {
	b := bustest.Start(t, bus.TopologyOptions{})
	ctx := context.Background()
	for i := range 6 {
		if err := b.Publish(ctx, &events.AuditRecorded{At: time.Unix(int64(i), 0).UTC(), Actor: events.Actor{Kind: "cli", Name: "t"},
			Action: "job.update", Target: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	st, err := b.JS.Stream(ctx, bus.StreamAudit)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteMsg(ctx, 4); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Info(ctx); err != nil { // refresh the cached state
		t.Fatal(err)
	}
	var pages [][]uint64
	before := uint64(0)
	for range 5 {
		var page []uint64
		next, err := bus.EachNewest(ctx, st, before, 100, func(m *jetstream.RawStreamMsg) bool {
			page = append(page, m.Sequence)
			return len(page) < 2
		})
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, page)
		if next == 0 {
			break
		}
		before = next
	}
	if got := fmt.Sprint(pages); got != "[[6 5] [3 2] [1]]" {
		t.Fatalf("pages %s, want [[6 5] [3 2] [1]]", got)
	}
	// A scan bound stops early and says where to go on.
	next, err := bus.EachNewest(ctx, st, 0, 1, func(*jetstream.RawStreamMsg) bool { return true })
	if err != nil || next != 6 {
		t.Fatalf("a scan of one: next %d, %v; want 6", next, err)
	}
}

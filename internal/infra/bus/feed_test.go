package bus_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/internal/infra/bus/bustest"
)

func feedMsgs(from, to int64) []bus.FeedMsg {
	var out []bus.FeedMsg
	for seq := from; seq <= to; seq++ {
		out = append(out, bus.FeedMsg{Seq: seq, Domain: "lab",
			Payload: fmt.Appendf(nil, `{"seq":%d,"domain":"lab","change":"created","actor":"sync","at":"2026-12-07T00:00:00Z","account":{}}`, seq)})
	}
	return out
}

// The feed's stream takes changes only in turn: one published after the
// wrong position, or again, is refused and leaves no gap or repeat. Where
// to start reading a change follows from the last message, also once the
// oldest changes aged out (refused then, with the range still held).
func TestFeedInOrderAndWhereToStart(t *testing.T) {
	b := bustest.Start(t, bus.TopologyOptions{})
	ctx := context.Background()
	pos, err := b.FeedPosition(ctx)
	if err != nil || pos != (bus.FeedPosition{}) {
		t.Fatalf("empty feed: %+v %v", pos, err)
	}
	if pos, err = b.PublishFeed(ctx, pos, feedMsgs(1, 5)); err != nil || pos != (bus.FeedPosition{Seq: 5, StreamSeq: 5}) {
		t.Fatalf("publish 1-5: %+v %v", pos, err)
	}
	// Again from an old position (a relay that did not see its last
	// acknowledgements): the changes the stream holds are refused, the
	// first it lacks follows them. No gap, no repeat.
	if _, err := b.PublishFeed(ctx, bus.FeedPosition{Seq: 3, StreamSeq: 3}, feedMsgs(4, 6)); err == nil {
		t.Fatal("changes the stream holds were taken again")
	}
	if pos, err = b.FeedPosition(ctx); err != nil || pos != (bus.FeedPosition{Seq: 6, StreamSeq: 6}) {
		t.Fatalf("after publishing from an old position: %+v %v, want change 6 at 6", pos, err)
	}
	// Ahead of the stream (a gap): refused, nothing stored.
	if _, err := b.PublishFeed(ctx, bus.FeedPosition{Seq: 7, StreamSeq: 7}, feedMsgs(8, 8)); err == nil {
		t.Fatal("a change after a gap was taken")
	}
	if now, err := b.FeedPosition(ctx); err != nil || now != pos {
		t.Fatalf("after a refused publication: %+v %v, want %+v", now, err, pos)
	}
	for from, want := range map[int64]uint64{1: 1, 3: 3, 6: 6, 7: 7, 9: 9} {
		if got, err := b.FeedStart(ctx, from); err != nil || got != want {
			t.Errorf("FeedStart(%d) = %d, %v; want %d", from, got, err, want)
		}
	}
	// The oldest changes age out (as feed.max_age does).
	st, err := b.JS.Stream(ctx, bus.StreamAccounts)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Purge(ctx, jetstream.WithPurgeSequence(3)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.FeedStart(ctx, 2); !errors.Is(err, bus.ErrFeedExpired) {
		t.Fatalf("FeedStart of an aged-out change: %v, want ErrFeedExpired", err)
	}
	if got, err := b.FeedStart(ctx, 4); err != nil || got != 4 {
		t.Fatalf("FeedStart(4) after the purge = %d, %v", got, err)
	}
	if pos, err = b.PublishFeed(ctx, pos, feedMsgs(7, 7)); err != nil || pos != (bus.FeedPosition{Seq: 7, StreamSeq: 7}) {
		t.Fatalf("publish 7 after the purge: %+v %v", pos, err)
	}
}

package accountwriter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/infra/bus"
)

// fakeStream is a stream as JetStream keeps it for the relay: a message
// must name the stream sequence it follows, and one publication in
// failAt's place fails once (the stream's leader lost, say).
type fakeStream struct {
	mu     sync.Mutex
	seqs   []int64
	failAt int // the publication (counted from 1) that fails; 0: none
	tries  int
}

func (f *fakeStream) FeedPosition(context.Context) (bus.FeedPosition, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := bus.FeedPosition{StreamSeq: uint64(len(f.seqs))}
	if len(f.seqs) > 0 {
		p.Seq = f.seqs[len(f.seqs)-1]
	}
	return p, nil
}

func (f *fakeStream) PublishFeed(_ context.Context, pos bus.FeedPosition, msgs []bus.FeedMsg) (bus.FeedPosition, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	start := pos.StreamSeq
	for i, m := range msgs {
		f.tries++
		if f.tries == f.failAt {
			return pos, errors.New("nats: no response from stream")
		}
		if at := uint64(len(f.seqs)); start+uint64(i) != at {
			return pos, fmt.Errorf("wrong last sequence: expected %d, stream at %d", start+uint64(i), at)
		}
		f.seqs = append(f.seqs, m.Seq)
		pos = bus.FeedPosition{Seq: m.Seq, StreamSeq: uint64(len(f.seqs))}
	}
	return pos, nil
}

func (f *fakeStream) published() []int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int64(nil), f.seqs...)
}

// The relay publishes every committed change once, in order, also when a
// publication fails in the middle of a batch, and empties the outbox.
func TestRelayPublishesEachChangeOnceInOrder(t *testing.T) {
	ctx := context.Background()
	s, err := New(ctx, Config{DBPath: filepath.Join(t.TempDir(), "accounts.db")}, &published{}, noMarks{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	run := events.Run{RunID: "r1", Job: "j"}
	const n = 25
	var changes []events.AccountChange
	for i := range n {
		id := fmt.Sprintf("g%02d", i)
		changes = append(changes, events.AccountChange{Op: events.OpCreate, ExternalID: id, Version: 1,
			Entry: &events.DirectoryEntry{ID: id, Username: "user" + id}})
	}
	if err := s.HandleChanges(ctx, &events.AccountChanges{Run: run, Domain: "corp", Attempt: 1, Batch: "p1", Changes: changes}); err != nil {
		t.Fatal(err)
	}
	if err := s.HandleChangesCompleted(ctx, &events.ChangesCompleted{Run: run, Domain: "corp", Domains: []string{"corp"}, Attempt: 1,
		Outcome: events.OutcomeCompleted, TotalBatches: 1, Attempts: 1}); err != nil {
		t.Fatal(err)
	}
	stream := &fakeStream{failAt: 7}
	var warnings bytes.Buffer
	s.log = slog.New(slog.NewTextHandler(&warnings, nil))
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.RelayFeed(rctx, stream) }()
	outboxLeft := func() int {
		left, err := s.store.Outbox(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		return len(left)
	}
	deadline := time.Now().Add(30 * time.Second)
	for (len(stream.published()) < n || outboxLeft() > 0) && time.Now().Before(deadline) {
		s.kickFeed()
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("relay: %v", err)
	}
	if n := strings.Count(warnings.String(), "publishing stopped"); n != 1 {
		t.Errorf("%d publishing failures logged, want the one:\n%s", n, warnings.String())
	}
	got := stream.published()
	if len(got) != n {
		t.Fatalf("published %d changes, want %d", len(got), n)
	}
	for i, seq := range got {
		if seq != int64(i+1) {
			t.Fatalf("published %v: not 1…%d, each once", got, n)
		}
	}
	if left := outboxLeft(); left != 0 {
		t.Fatalf("the outbox still holds %d changes", left)
	}
}

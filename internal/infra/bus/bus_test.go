package bus_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/internal/infra/bus/bustest"
)

func startBus(t *testing.T) *bus.Bus {
	t.Helper()
	return bustest.Start(t, bus.TopologyOptions{AckWait: 300 * time.Millisecond})
}

func runRouter(t *testing.T, b *bus.Bus, register func(r *bus.Router)) {
	t.Helper()
	r, err := b.NewRouter("test")
	if err != nil {
		t.Fatal(err)
	}
	register(r)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-r.Running():
	case err := <-done:
		t.Fatalf("router stopped: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("router did not start")
	}
}

func request(id string) *events.SyncRequested {
	return &events.SyncRequested{Run: events.Run{RunID: id, Job: "nightly", Trigger: events.TriggerManual, RequestedAt: time.Now().UTC()}}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func deadLetters(t *testing.T, b *bus.Bus) []jetstream.RawStreamMsg {
	t.Helper()
	ctx := context.Background()
	st, err := b.JS.Stream(ctx, bus.StreamDeadLetter)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			continue
		}
		out = append(out, *m)
	}
	return out
}

func TestTypedHandlerDeliversOncePerMessageID(t *testing.T) {
	b := startBus(t)
	var mu sync.Mutex
	got := map[string]int{}
	runRouter(t, b, func(r *bus.Router) {
		if err := bus.Handle(r, bus.ConsumerGuardRequested, func(ctx context.Context, ev *events.SyncRequested) error {
			mu.Lock()
			got[ev.RunID]++
			mu.Unlock()
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	})
	ctx := context.Background()
	for range 3 { // the same event three times: stored once
		if err := b.Publish(ctx, request("r1")); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Publish(ctx, request("r2")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both runs handled", func() bool { mu.Lock(); defer mu.Unlock(); return got["r1"] >= 1 && got["r2"] >= 1 })
	mu.Lock()
	defer mu.Unlock()
	if got["r1"] != 1 {
		t.Fatalf("r1 handled %d times, want 1", got["r1"])
	}
}

func TestMalformedEventIsDeadLetteredAndPipelineGoesOn(t *testing.T) {
	b := startBus(t)
	var handled atomic.Int32
	runRouter(t, b, func(r *bus.Router) {
		_ = bus.Handle(r, bus.ConsumerGuardRequested, func(ctx context.Context, ev *events.SyncRequested) error {
			handled.Add(1)
			return nil
		})
	})
	ctx := context.Background()
	subject := events.SubjectOf("sync.requested.v1")
	cases := []struct{ name, payload string }{
		{"not json", "{oops"},
		{"missing run_id", `{"job":"x","trigger":"manual","requested_at":"2026-01-01T00:00:00Z"}`},
		{"bad trigger", `{"run_id":"a","job":"x","trigger":"whenever","requested_at":"2026-01-01T00:00:00Z"}`},
	}
	for _, c := range cases {
		if _, err := b.JS.Publish(ctx, subject, []byte(c.payload)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Publish(ctx, request("good")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the valid event after the malformed ones", func() bool { return handled.Load() == 1 })
	waitFor(t, "three dead letters", func() bool { return len(deadLetters(t, b)) == 3 })
	for i, m := range deadLetters(t, b) {
		t.Run(cases[i].name, func(t *testing.T) {
			if string(m.Data) != cases[i].payload {
				t.Errorf("dead letter keeps payload %q, want %q", m.Data, cases[i].payload)
			}
			if m.Header.Get(bus.HeaderDeadSubject) != subject || m.Header.Get(bus.HeaderDeadConsumer) != bus.ConsumerGuardRequested {
				t.Errorf("dead letter headers: %v", m.Header)
			}
			if m.Header.Get(bus.HeaderDeadReason) == "" {
				t.Error("dead letter has no reason")
			}
		})
	}
}

func TestRetryAfterRedeliversWithAttemptCount(t *testing.T) {
	b := startBus(t)
	var attempts []int
	var mu sync.Mutex
	runRouter(t, b, func(r *bus.Router) {
		_ = bus.Handle(r, bus.ConsumerGuardRequested, func(ctx context.Context, ev *events.SyncRequested) error {
			mu.Lock()
			defer mu.Unlock()
			attempts = append(attempts, bus.DeliveryFrom(ctx).Attempt)
			if len(attempts) < 3 {
				return bus.RetryAfter(50*time.Millisecond, errors.New("directory busy"))
			}
			return nil
		})
	})
	if err := b.Publish(context.Background(), request("r1")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "three attempts", func() bool { mu.Lock(); defer mu.Unlock(); return len(attempts) == 3 })
	mu.Lock()
	defer mu.Unlock()
	for i, a := range attempts {
		if a != i+1 {
			t.Fatalf("attempts = %v, want 1,2,3", attempts)
		}
	}
}

func TestFailingEveryDeliveryEndsInDeadLetter(t *testing.T) {
	b := startBus(t)
	spec, _ := bus.ConsumerByName(bus.ConsumerGuardRequested)
	var calls atomic.Int32
	runRouter(t, b, func(r *bus.Router) {
		_ = bus.Handle(r, bus.ConsumerGuardRequested, func(ctx context.Context, ev *events.SyncRequested) error {
			calls.Add(1)
			return bus.RetryAfter(10*time.Millisecond, errors.New("always broken"))
		})
	})
	if err := b.Publish(context.Background(), request("r1")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a dead letter", func() bool { return len(deadLetters(t, b)) == 1 })
	if int(calls.Load()) != spec.MaxDeliver {
		t.Fatalf("handler called %d times, want MaxDeliver=%d", calls.Load(), spec.MaxDeliver)
	}
	m := deadLetters(t, b)[0]
	if got := m.Header.Get(bus.HeaderDeadReason); got == "" || !strings.Contains(got, "always broken") {
		t.Fatalf("reason %q does not carry the last error", got)
	}
}

package bus_test

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/infra/bus"
)

// A handler that dies with the message every time (it never acks, never
// naks: the process crashed) leaves it to the ack wait; after MaxDeliver
// deliveries JetStream gives up and says so in an advisory, and
// WatchMaxDeliveries moves the message to the dead-letter stream with the
// reason, the subject and the consumer.
func TestMessageThatCrashesEveryDeliveryIsDeadLetteredFromTheAdvisory(t *testing.T) {
	b := startBus(t) // ack wait 300ms
	spec, _ := bus.ConsumerByName(bus.ConsumerGuardRequested)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	before := b.NC.NumSubscriptions()
	watched := make(chan error, 1)
	go func() {
		watched <- b.WatchMaxDeliveries(ctx, []bus.ConsumerSpec{spec}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	waitFor(t, "the advisory subscription", func() bool { return b.NC.NumSubscriptions() > before })
	if err := b.NC.Flush(); err != nil {
		t.Fatal(err)
	}

	ev := request("crashing")
	if err := b.Publish(ctx, ev); err != nil {
		t.Fatal(err)
	}
	cons, err := b.JS.Consumer(ctx, spec.Stream, spec.Durable)
	if err != nil {
		t.Fatal(err)
	}
	// The "crashed" handler: takes each delivery and drops it.
	deliveries := 0
	var stored jetstream.Msg
	waitFor(t, "a dead letter", func() bool {
		if len(deadLetters(t, b)) > 0 {
			return true
		}
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(200*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			deliveries++
			stored = m
		}
		return false
	})
	cancel()
	if err := <-watched; err != nil {
		t.Fatalf("WatchMaxDeliveries: %v", err)
	}
	if deliveries != spec.MaxDeliver {
		t.Errorf("delivered %d times, want MaxDeliver=%d", deliveries, spec.MaxDeliver)
	}
	md, err := stored.Metadata()
	if err != nil {
		t.Fatal(err)
	}

	dead := deadLetters(t, b)
	if len(dead) != 1 {
		t.Fatalf("%d dead letters, want 1", len(dead))
	}
	m := dead[0]
	want, _ := json.Marshal(ev)
	var got events.SyncRequested
	if err := json.Unmarshal(m.Data, &got); err != nil || got.RunID != ev.RunID {
		t.Errorf("dead letter payload %s, want the message %s (%v)", m.Data, want, err)
	}
	if m.Subject != bus.DeadLetterSubjectPrefix+spec.Durable {
		t.Errorf("dead letter on %s, want %s", m.Subject, bus.DeadLetterSubjectPrefix+spec.Durable)
	}
	headers := []struct{ name, want string }{
		{bus.HeaderDeadSubject, events.SubjectOf(ev.EventName())},
		{bus.HeaderDeadConsumer, spec.Durable},
		{bus.HeaderDeadStream, spec.Stream},
		{bus.HeaderDeadSeq, strconv.FormatUint(md.Sequence.Stream, 10)},
		{bus.HeaderDeadAttempts, strconv.Itoa(spec.MaxDeliver)},
	}
	for _, h := range headers {
		t.Run(h.name, func(t *testing.T) {
			if got := m.Header.Get(h.name); got != h.want {
				t.Errorf("%s = %q, want %q", h.name, got, h.want)
			}
		})
	}
	if reason := m.Header.Get(bus.HeaderDeadReason); !strings.Contains(reason, "delivered "+strconv.Itoa(spec.MaxDeliver)+" times and never settled") {
		t.Errorf("reason %q", reason)
	}
	// Nothing is delivered any more: the consumer gave up on it.
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	for m := range batch.Messages() {
		t.Errorf("delivered again after the dead letter: %s", m.Subject())
	}
}

package bus

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/adsync/adsync/events"
)

// Stream publishes a sequence of events without waiting for each
// acknowledgement: up to window publications are in flight while the
// caller goes on (reading the next directory page, say). Flush waits for
// all of them; the first failure is returned by Publish or Flush.
type Stream struct {
	b       *Bus
	window  int
	pending []pending
}

type pending struct {
	f  jetstream.PubAckFuture
	id string
}

// NewStream returns a stream with at most window publications in flight.
func (b *Bus) NewStream(window int) *Stream {
	return &Stream{b: b, window: max(window, 1)}
}

// Publish publishes ev; it blocks only while window publications wait.
func (s *Stream) Publish(ctx context.Context, ev events.Event) error {
	for len(s.pending) >= s.window {
		if err := s.waitOldest(ctx); err != nil {
			return err
		}
	}
	m, err := s.b.marshaler.Marshal(ev)
	if err != nil {
		return err
	}
	nm := &nats.Msg{Subject: events.Subject(ev), Data: m.Payload, Header: nats.Header{}}
	nm.Header.Set(metaName, ev.EventName())
	f, err := s.b.JS.PublishMsgAsync(nm, jetstream.WithMsgID(m.UUID))
	if err != nil {
		return fmt.Errorf("publish %s (%d bytes): %w", m.UUID, len(m.Payload), err)
	}
	s.pending = append(s.pending, pending{f: f, id: m.UUID})
	return nil
}

func (s *Stream) waitOldest(ctx context.Context) error {
	p := s.pending[0]
	s.pending = s.pending[1:]
	select {
	case <-p.f.Ok():
		return nil
	case err := <-p.f.Err():
		if errors.Is(err, nats.ErrMaxPayload) {
			return fmt.Errorf("publish %s: message exceeds the server's max_payload: %w", p.id, err)
		}
		return fmt.Errorf("publish %s: %w", p.id, err)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Flush waits until every publication was acknowledged.
func (s *Stream) Flush(ctx context.Context) error {
	for len(s.pending) > 0 {
		if err := s.waitOldest(ctx); err != nil {
			return err
		}
	}
	return nil
}

package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/infra/bus"
)

// DeadLetter is a message that could not be processed.
type DeadLetter struct {
	Seq        uint64            `json:"seq"`
	Subject    string            `json:"subject"`
	Consumer   string            `json:"consumer"`
	Reason     string            `json:"reason"`
	Deliveries string            `json:"deliveries"`
	At         string            `json:"at"`
	MessageID  string            `json:"message_id,omitempty"`
	Headers    map[string]string `json:"headers,omitempty"`
	Payload    json.RawMessage   `json:"payload,omitempty"`
	Raw        string            `json:"raw,omitempty"` // a payload that is not JSON
}

func deadLetterOf(m *jetstream.RawStreamMsg, full bool) DeadLetter {
	d := DeadLetter{Seq: m.Sequence, Subject: m.Header.Get(bus.HeaderDeadSubject), Consumer: m.Header.Get(bus.HeaderDeadConsumer),
		Reason: m.Header.Get(bus.HeaderDeadReason), Deliveries: m.Header.Get(bus.HeaderDeadAttempts), At: m.Header.Get(bus.HeaderDeadAt),
		MessageID: m.Header.Get("Adsync-Dead-Msg-Id")}
	if full {
		d.Headers = map[string]string{}
		for k := range m.Header {
			d.Headers[k] = m.Header.Get(k)
		}
		if json.Valid(m.Data) {
			d.Payload = m.Data
		} else {
			d.Raw = string(m.Data)
		}
	}
	return d
}

func (o *Ops) deadLetters(ctx context.Context) (jetstream.Stream, error) {
	st, err := o.JS.Stream(ctx, bus.StreamDeadLetter)
	if err != nil {
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	return st, nil
}

// DeadLetters lists the dead letters, oldest first, without their payloads.
func (o *Ops) DeadLetters(ctx context.Context) ([]DeadLetter, error) {
	st, err := o.deadLetters(ctx)
	if err != nil {
		return nil, err
	}
	out := []DeadLetter{}
	err = eachDeadLetter(ctx, st, func(m *jetstream.RawStreamMsg) error { out = append(out, deadLetterOf(m, false)); return nil })
	return out, err
}

// DeadLetter returns one dead letter whole (headers and payload).
func (o *Ops) DeadLetter(ctx context.Context, seq uint64) (DeadLetter, error) {
	st, err := o.deadLetters(ctx)
	if err != nil {
		return DeadLetter{}, err
	}
	m, err := getDeadLetter(ctx, st, seq)
	if err != nil {
		return DeadLetter{}, err
	}
	return deadLetterOf(m, true), nil
}

func getDeadLetter(ctx context.Context, st jetstream.Stream, seq uint64) (*jetstream.RawStreamMsg, error) {
	m, err := st.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, Fail(NotFound, "dead letter %d: there is none (list them to see their numbers)", seq)
	}
	if err != nil {
		return nil, fmt.Errorf("dead letter %d: %w", seq, err)
	}
	return m, nil
}

// ReplayDeadLetters publishes dead letters again on their subject (their
// handlers apply each once) and removes them: those numbered, or all when
// seqs is empty. It calls done with each one replayed.
func (o *Ops) ReplayDeadLetters(ctx context.Context, actor events.Actor, seqs []uint64, done func(DeadLetter)) error {
	return o.eachSelected(ctx, seqs, func(st jetstream.Stream, m *jetstream.RawStreamMsg) error {
		h := nats.Header{}
		for k, v := range m.Header {
			if !strings.HasPrefix(k, "Adsync-Dead-") {
				h[k] = v
			}
		}
		msg := &nats.Msg{Subject: m.Header.Get(bus.HeaderDeadSubject), Data: m.Data, Header: h}
		if _, err := o.JS.PublishMsg(ctx, msg, jetstream.WithMsgID(fmt.Sprintf("replay:%d:%s", m.Sequence, m.Header.Get(bus.HeaderDeadAt)))); err != nil {
			return fmt.Errorf("replay %d on %s: %w", m.Sequence, msg.Subject, err)
		}
		if err := st.DeleteMsg(ctx, m.Sequence); err != nil {
			return err
		}
		d := deadLetterOf(m, false)
		done(d)
		return o.record(ctx, actor, "deadletter.replay", fmt.Sprint(m.Sequence), d, nil, "published again on "+msg.Subject)
	})
}

// PurgeDeadLetters removes dead letters for good: those numbered, or all
// when seqs is empty.
func (o *Ops) PurgeDeadLetters(ctx context.Context, actor events.Actor, seqs []uint64, done func(DeadLetter)) error {
	return o.eachSelected(ctx, seqs, func(st jetstream.Stream, m *jetstream.RawStreamMsg) error {
		if err := st.DeleteMsg(ctx, m.Sequence); err != nil {
			return err
		}
		d := deadLetterOf(m, false)
		done(d)
		return o.record(ctx, actor, "deadletter.purge", fmt.Sprint(m.Sequence), d, nil, "")
	})
}

func (o *Ops) eachSelected(ctx context.Context, seqs []uint64, fn func(jetstream.Stream, *jetstream.RawStreamMsg) error) error {
	st, err := o.deadLetters(ctx)
	if err != nil {
		return err
	}
	if len(seqs) == 0 {
		var msgs []*jetstream.RawStreamMsg
		if err := eachDeadLetter(ctx, st, func(m *jetstream.RawStreamMsg) error { msgs = append(msgs, m); return nil }); err != nil {
			return err
		}
		for _, m := range msgs {
			if err := fn(st, m); err != nil {
				return err
			}
		}
		return nil
	}
	for _, seq := range seqs {
		m, err := getDeadLetter(ctx, st, seq)
		if err != nil {
			return err
		}
		if err := fn(st, m); err != nil {
			return err
		}
	}
	return nil
}

// eachDeadLetter calls fn with every dead letter, oldest first.
func eachDeadLetter(ctx context.Context, st jetstream.Stream, fn func(*jetstream.RawStreamMsg) error) error {
	info, err := st.Info(ctx)
	if err != nil {
		return err
	}
	if info.State.Msgs == 0 {
		return nil
	}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			continue // deleted
		}
		if err := fn(m); err != nil {
			return err
		}
	}
	return nil
}

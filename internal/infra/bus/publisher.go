package bus

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Publisher is a watermill message.Publisher over JetStream. The watermill
// message UUID becomes the Nats-Msg-Id, so a repeated publication is stored
// once. All messages of one call are published asynchronously and the call
// returns when the stream has acknowledged every one of them.
type Publisher struct {
	JS      jetstream.JetStream
	Timeout time.Duration
}

// Publish implements message.Publisher.
func (p *Publisher) Publish(topic string, msgs ...*message.Message) error {
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	futures := make([]jetstream.PubAckFuture, 0, len(msgs))
	for _, m := range msgs {
		nm := &nats.Msg{Subject: topic, Data: m.Payload, Header: nats.Header{}}
		for k, v := range m.Metadata {
			if !strings.HasPrefix(k, "adsync_") && k != jetstream.MsgIDHeader {
				nm.Header.Set(k, v)
			}
		}
		f, err := p.JS.PublishMsgAsync(nm, jetstream.WithMsgID(m.UUID))
		if err != nil {
			return fmt.Errorf("publish %s (%s, %d bytes): %w", topic, m.UUID, len(m.Payload), err)
		}
		futures = append(futures, f)
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for i, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			if errors.Is(err, nats.ErrMaxPayload) {
				return fmt.Errorf("publish %s (%s): message of %d bytes exceeds the server's max_payload: %w", topic, msgs[i].UUID, len(msgs[i].Payload), err)
			}
			return fmt.Errorf("publish %s (%s): %w", topic, msgs[i].UUID, err)
		case <-deadline.C:
			return fmt.Errorf("publish %s: no acknowledgement from JetStream within %s", topic, timeout)
		}
	}
	return nil
}

// Close implements message.Publisher.
func (p *Publisher) Close() error { return nil }

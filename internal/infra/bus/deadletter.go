package bus

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Headers of a dead letter, besides the original message's own.
const (
	HeaderDeadReason   = "Adsync-Dead-Reason"
	HeaderDeadSubject  = "Adsync-Dead-Subject"
	HeaderDeadConsumer = "Adsync-Dead-Consumer"
	HeaderDeadStream   = "Adsync-Dead-Stream"
	HeaderDeadSeq      = "Adsync-Dead-Stream-Seq"
	HeaderDeadAttempts = "Adsync-Dead-Deliveries"
	HeaderDeadAt       = "Adsync-Dead-At"
)

// DeadLetters keeps messages that could not be processed, with the reason,
// the subject and the consumer, for an administrator to inspect and replay.
type DeadLetters struct {
	JS jetstream.JetStream
}

// Put stores a copy of jm in the dead-letter stream.
func (d *DeadLetters) Put(ctx context.Context, jm jetstream.Msg, consumer string, del Delivery, reason string) error {
	md, err := jm.Metadata()
	if err != nil {
		return err
	}
	h := nats.Header{}
	for k, v := range jm.Headers() {
		if k != jetstream.MsgIDHeader {
			h[k] = v
		}
	}
	h.Set(HeaderDeadReason, reason)
	h.Set(HeaderDeadSubject, jm.Subject())
	h.Set(HeaderDeadConsumer, consumer)
	h.Set(HeaderDeadStream, md.Stream)
	h.Set(HeaderDeadSeq, strconv.FormatUint(md.Sequence.Stream, 10))
	h.Set(HeaderDeadAttempts, strconv.Itoa(del.Attempt))
	h.Set(HeaderDeadAt, time.Now().UTC().Format(time.RFC3339Nano))
	if id := jm.Headers().Get(jetstream.MsgIDHeader); id != "" {
		h.Set("Adsync-Dead-Msg-Id", id)
	}
	msg := &nats.Msg{Subject: DeadLetterSubjectPrefix + consumer, Data: jm.Data(), Header: h}
	id := fmt.Sprintf("dead:%s:%s:%d", consumer, md.Stream, md.Sequence.Stream)
	if _, err := d.JS.PublishMsg(ctx, msg, jetstream.WithMsgID(id)); err != nil {
		return fmt.Errorf("dead-letter %s seq %d: %w", jm.Subject(), md.Sequence.Stream, err)
	}
	return nil
}

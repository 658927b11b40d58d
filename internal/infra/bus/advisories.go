package bus

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/internal/infra/metrics"
)

// maxDeliveries is JetStream's advisory that a consumer gave up on a
// message (io.nats.jetstream.advisory.v1.max_deliver).
type maxDeliveries struct {
	Stream     string `json:"stream"`
	Consumer   string `json:"consumer"`
	StreamSeq  uint64 `json:"stream_seq"`
	Deliveries int    `json:"deliveries"`
}

// WatchMaxDeliveries dead-letters the messages JetStream stopped
// delivering after MaxDeliver attempts that no handler settled — a handler
// that crashed or timed out every time — so that none is silently left
// behind. It returns when ctx ends.
// Each process watches its own consumers only.
func (b *Bus) WatchMaxDeliveries(ctx context.Context, consumers []ConsumerSpec, log *slog.Logger) error {
	handle := func(m *nats.Msg) {
		var a maxDeliveries
		if err := json.Unmarshal(m.Data, &a); err != nil {
			return
		}
		if err := b.deadLetterBySeq(ctx, a); err != nil {
			log.Error("cannot dead-letter a message that exhausted its deliveries", "stream", a.Stream, "consumer", a.Consumer, "stream_seq", a.StreamSeq, "err", err)
		}
	}
	var subs []*nats.Subscription
	defer func() {
		for _, s := range subs {
			_ = s.Unsubscribe()
		}
	}()
	for _, c := range consumers {
		sub, err := b.NC.Subscribe("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES."+c.Stream+"."+c.Durable, handle)
		if err != nil {
			return fmt.Errorf("watch max-deliveries advisories of %s: %w", c.Durable, err)
		}
		subs = append(subs, sub)
	}
	<-ctx.Done()
	return nil
}

func (b *Bus) deadLetterBySeq(ctx context.Context, a maxDeliveries) error {
	if a.Stream == StreamDeadLetter {
		return nil
	}
	st, err := b.JS.Stream(ctx, a.Stream)
	if err != nil {
		return err
	}
	raw, err := st.GetMsg(ctx, a.StreamSeq)
	if err != nil {
		return err
	}
	h := nats.Header{}
	for k, v := range raw.Header {
		if k != jetstream.MsgIDHeader {
			h[k] = v
		}
	}
	h.Set(HeaderDeadReason, fmt.Sprintf("delivered %d times and never settled: the handler crashed or timed out every time", a.Deliveries))
	h.Set(HeaderDeadSubject, raw.Subject)
	h.Set(HeaderDeadConsumer, a.Consumer)
	h.Set(HeaderDeadStream, a.Stream)
	h.Set(HeaderDeadSeq, strconv.FormatUint(a.StreamSeq, 10))
	h.Set(HeaderDeadAttempts, strconv.Itoa(a.Deliveries))
	h.Set(HeaderDeadAt, time.Now().UTC().Format(time.RFC3339Nano))
	msg := &nats.Msg{Subject: DeadLetterSubjectPrefix + a.Consumer, Data: raw.Data, Header: h}
	id := fmt.Sprintf("dead:%s:%s:%d", a.Consumer, a.Stream, a.StreamSeq)
	ack, err := b.JS.PublishMsg(ctx, msg, jetstream.WithMsgID(id))
	if err == nil && !ack.Duplicate {
		metrics.DeadLetters.WithLabelValues(a.Consumer).Inc()
	}
	return err
}

// WatchLag records each consumer's backlog every interval until ctx ends.
func (b *Bus) WatchLag(ctx context.Context, consumers []ConsumerSpec, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for _, c := range consumers {
			cons, err := b.JS.Consumer(ctx, c.Stream, c.Durable)
			if err != nil {
				continue
			}
			info, err := cons.Info(ctx)
			if err != nil {
				continue
			}
			metrics.ConsumerPending.WithLabelValues(c.Durable).Set(float64(info.NumPending))
			metrics.ConsumerAckPending.WithLabelValues(c.Durable).Set(float64(info.NumAckPending))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/adsync/adsync/internal/infra/metrics"
)

// Subscriber is a watermill message.Subscriber over one durable, explicit-ack
// JetStream pull consumer. It is the only place where a handler's outcome
// becomes an ack, a nak with delay or a dead letter.
type Subscriber struct {
	js    jetstream.JetStream
	spec  ConsumerSpec
	topo  TopologyOptions
	dead  *DeadLetters
	log   *slog.Logger
	close chan struct{}
	once  sync.Once
	wg    sync.WaitGroup
}

// NewSubscriber returns a subscriber for the durable consumer spec.
func NewSubscriber(js jetstream.JetStream, spec ConsumerSpec, topo TopologyOptions, log *slog.Logger) *Subscriber {
	return &Subscriber{
		js: js, spec: spec, topo: topo.withDefaults(),
		dead: &DeadLetters{JS: js}, log: log.With("consumer", spec.Durable),
		close: make(chan struct{}),
	}
}

// Subscribe starts delivering the consumer's messages. The topic must be the
// consumer's subject.
func (s *Subscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	cons, err := s.js.Consumer(ctx, s.spec.Stream, s.spec.Durable)
	if err != nil {
		return nil, fmt.Errorf("open consumer %s on %s: %w", s.spec.Durable, s.spec.Stream, err)
	}
	conc := max(s.spec.Concurrency, 1)
	// Keep the client-side buffer small: a buffered message counts as
	// delivered, and must not wait past its ack wait behind slow ones.
	iter, err := cons.Messages(jetstream.PullMaxMessages(conc+2), jetstream.PullHeartbeat(5*time.Second))
	if err != nil {
		return nil, fmt.Errorf("consume %s: %w", s.spec.Durable, err)
	}
	out := make(chan *message.Message)
	in := make(chan jetstream.Msg)
	s.wg.Add(1)
	go func() { // the only caller of iter.Next
		defer s.wg.Done()
		defer close(in)
		go func() {
			select {
			case <-ctx.Done():
			case <-s.close:
			}
			iter.Stop()
		}()
		for {
			m, err := iter.Next()
			if err != nil {
				if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
					return
				}
				s.log.Warn("fetch from consumer failed; retrying", "err", err)
				select {
				case <-time.After(time.Second):
					continue
				case <-s.close:
					return
				case <-ctx.Done():
					return
				}
			}
			select {
			case in <- m:
			case <-s.close:
				_ = m.Nak()
				return
			case <-ctx.Done():
				_ = m.Nak()
				return
			}
		}
	}()
	var workers sync.WaitGroup
	for range conc {
		workers.Add(1)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer workers.Done()
			for m := range in {
				s.deliver(ctx, topic, m, out)
			}
		}()
	}
	go func() {
		workers.Wait()
		close(out)
	}()
	return out, nil
}

func (s *Subscriber) deliver(ctx context.Context, topic string, jm jetstream.Msg, out chan<- *message.Message) {
	md, err := jm.Metadata()
	if err != nil {
		s.log.Error("message without JetStream metadata; terminating it", "subject", jm.Subject(), "err", err)
		_ = jm.Term()
		return
	}
	id := jm.Headers().Get(jetstream.MsgIDHeader)
	if id == "" {
		id = md.Stream + ":" + strconv.FormatUint(md.Sequence.Stream, 10)
	}
	wm := message.NewMessage(id, jm.Data())
	for k, v := range jm.Headers() {
		if len(v) > 0 {
			wm.Metadata.Set(k, v[0])
		}
	}
	wm.Metadata.Set(metaName, NameFromSubject(jm.Subject()))
	d := Delivery{
		Attempt: int(md.NumDelivered), Subject: jm.Subject(), Consumer: s.spec.Durable,
		StreamSeq: md.Sequence.Stream, MaxDeliver: s.spec.MaxDeliver,
	}
	msgCtx, cancel := context.WithCancel(WithDelivery(ctx, d))
	defer cancel()
	wm.SetContext(msgCtx)

	select {
	case out <- wm:
	case <-s.close:
		_ = jm.Nak()
		return
	case <-ctx.Done():
		_ = jm.Nak()
		return
	}
	if d.Attempt > 1 {
		metrics.Redeliveries.WithLabelValues(s.spec.Durable).Inc()
		countersOf(s.spec.Durable).redelivered.Add(1)
	}
	start := time.Now()
	defer func() { metrics.HandlerSeconds.WithLabelValues(s.spec.Durable).Observe(time.Since(start).Seconds()) }()

	// While the handler works, tell the server it is in progress so that
	// the message is not redelivered elsewhere.
	beat := time.NewTicker(max(s.topo.AckWait/3, 100*time.Millisecond))
	defer beat.Stop()
	for {
		select {
		case <-wm.Acked():
			metrics.Handled.WithLabelValues(s.spec.Durable, "ack").Inc()
			countersOf(s.spec.Durable).acked.Add(1)
			if err := jm.Ack(); err != nil {
				s.log.Warn("ack failed; the message will be redelivered and applied once", "subject", jm.Subject(), "err", err)
			}
			return
		case <-wm.Nacked():
			s.settleFailure(jm, wm, d)
			return
		case <-beat.C:
			_ = jm.InProgress()
		}
	}
}

// settleFailure turns a failed delivery into a nak with delay, or, for a
// rejected message or the last delivery, a dead letter.
func (s *Subscriber) settleFailure(jm jetstream.Msg, wm *message.Message, d Delivery) {
	reason := wm.Metadata.Get(metaError)
	if reason == "" {
		reason = "handler failed without a reason"
	}
	log := s.log.With("subject", jm.Subject(), "attempt", d.Attempt, "stream_seq", d.StreamSeq)
	last := d.MaxDeliver > 0 && d.Attempt >= d.MaxDeliver
	if wm.Metadata.Get(metaDisposition) == "dead-letter" || last {
		if last && wm.Metadata.Get(metaDisposition) != "dead-letter" {
			reason = fmt.Sprintf("failed on all %d deliveries; last error: %s", d.Attempt, reason)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.dead.Put(ctx, jm, s.spec.Durable, d, reason); err != nil {
			log.Error("cannot dead-letter a message; leaving it for redelivery", "err", err, "reason", reason)
			_ = jm.NakWithDelay(s.delay(d, wm))
			return
		}
		log.Error("message dead-lettered", "reason", reason)
		metrics.Handled.WithLabelValues(s.spec.Durable, "dead-letter").Inc()
		metrics.DeadLetters.WithLabelValues(s.spec.Durable).Inc()
		countersOf(s.spec.Durable).dead.Add(1)
		_ = jm.TermWithReason(truncate(reason, 200))
		return
	}
	delay := s.delay(d, wm)
	metrics.Handled.WithLabelValues(s.spec.Durable, "retry").Inc()
	countersOf(s.spec.Durable).retried.Add(1)
	log.Warn("handler failed; redelivering later", "retry_in", delay.String(), "err", reason)
	_ = jm.NakWithDelay(delay)
}

func (s *Subscriber) delay(d Delivery, wm *message.Message) time.Duration {
	if v := wm.Metadata.Get(metaRetryAfter); v != "" {
		if dur, err := time.ParseDuration(v); err == nil && dur >= 0 {
			return dur
		}
	}
	return s.topo.RetryDelay(d.Attempt)
}

// Close stops delivering and waits for in-flight messages to settle.
func (s *Subscriber) Close() error {
	s.once.Do(func() { close(s.close) })
	s.wg.Wait()
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

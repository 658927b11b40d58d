package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/adsync/adsync/events"
)

// HeaderFeedSeq carries an account.changed.v1's sequence number.
const HeaderFeedSeq = "Adsync-Feed-Seq"

// FeedMsg is one account.changed.v1 to publish: its sequence, domain and
// JSON.
type FeedMsg struct {
	Seq     int64
	Domain  string
	Payload []byte
}

func feedMsgID(seq int64) string { return (events.AccountChanged{Seq: seq}).MessageID() }

// LastFeedSeq returns the sequence of the last account change the feed's
// stream holds (0: none).
func (b *Bus) LastFeedSeq(ctx context.Context) (int64, error) {
	st, err := b.JS.Stream(ctx, StreamAccounts)
	if err != nil {
		return 0, fmt.Errorf("feed stream: %w", err)
	}
	if st.CachedInfo().State.Msgs == 0 {
		return 0, nil
	}
	m, err := st.GetMsg(ctx, st.CachedInfo().State.LastSeq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("feed stream: last message: %w", err)
	}
	seq, err := strconv.ParseInt(m.Header.Get(HeaderFeedSeq), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("feed stream: last message %d has no %s header", m.Sequence, HeaderFeedSeq)
	}
	return seq, nil
}

// PublishFeed publishes account changes in order, after the one numbered
// after (0: the stream may hold none). Each names its predecessor
// (Nats-Expected-Last-Msg-Id): JetStream refuses one published out of turn,
// so the stream never has a gap, and a repeat of one it holds is dropped
// (Nats-Msg-Id). It returns the sequence of the last change the stream
// holds, and an error if it could not publish them all.
func (b *Bus) PublishFeed(ctx context.Context, after int64, msgs []FeedMsg) (int64, error) {
	futures := make([]jetstream.PubAckFuture, 0, len(msgs))
	prev := after
	for _, m := range msgs {
		nm := &nats.Msg{Subject: events.FeedSubject(m.Domain), Data: m.Payload, Header: nats.Header{}}
		nm.Header.Set(metaName, (events.AccountChanged{}).EventName())
		nm.Header.Set(HeaderFeedSeq, strconv.FormatInt(m.Seq, 10))
		opts := []jetstream.PublishOpt{jetstream.WithMsgID(feedMsgID(m.Seq))}
		if prev > 0 {
			opts = append(opts, jetstream.WithExpectLastMsgID(feedMsgID(prev)))
		}
		f, err := b.JS.PublishMsgAsync(nm, opts...)
		if err != nil {
			break
		}
		futures = append(futures, f)
		prev = m.Seq
	}
	last := after
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	for i, f := range futures {
		select {
		case <-f.Ok():
			last = msgs[i].Seq
		case err := <-f.Err():
			return last, fmt.Errorf("publish account change %d: %w", msgs[i].Seq, err)
		case <-deadline.C:
			return last, fmt.Errorf("publish account change %d: no acknowledgement from JetStream", msgs[i].Seq)
		case <-ctx.Done():
			return last, ctx.Err()
		}
	}
	if len(futures) < len(msgs) {
		return last, fmt.Errorf("publish account change %d: the connection refused it", msgs[len(futures)].Seq)
	}
	return last, nil
}

// ErrFeedExpired means the feed no longer holds a change asked for: it
// keeps them for feed.max_age.
var ErrFeedExpired = errors.New("the account feed no longer holds that change")

// FeedStart returns the stream sequence of the account change numbered
// from, and of the next change to come if the feed does not hold that one
// yet. The relay publishes every change once, in order, with no gap, so
// the two numberings differ by a constant, read off the last message.
func (b *Bus) FeedStart(ctx context.Context, from int64) (uint64, error) {
	st, err := b.JS.Stream(ctx, StreamAccounts)
	if err != nil {
		return 0, fmt.Errorf("feed stream: %w", err)
	}
	state := st.CachedInfo().State
	last, err := b.LastFeedSeq(ctx)
	if err != nil {
		return 0, err
	}
	if last == 0 || from > last {
		return state.LastSeq + 1 + uint64(max(0, from-last-1)), nil
	}
	streamSeq := int64(state.LastSeq) - (last - from)
	if streamSeq < int64(state.FirstSeq) || from < 1 {
		return 0, fmt.Errorf("change %d: %w (it holds %d to %d): start again from a snapshot", from, ErrFeedExpired,
			last-int64(state.LastSeq-state.FirstSeq), last)
	}
	return uint64(streamSeq), nil
}

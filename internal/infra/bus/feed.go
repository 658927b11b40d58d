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

// FeedPosition is where the feed's stream stands: the last account change
// it holds (Seq, 0: none) and the stream's own last sequence (StreamSeq),
// which the next change must follow.
type FeedPosition struct {
	Seq       int64
	StreamSeq uint64
}

// FeedPosition returns where the feed's stream stands.
func (b *Bus) FeedPosition(ctx context.Context) (FeedPosition, error) {
	pos, _, err := b.feedState(ctx)
	return pos, err
}

// feedState returns where the feed's stream stands and its first stream
// sequence, read together: one stream info and its last message.
func (b *Bus) feedState(ctx context.Context) (FeedPosition, uint64, error) {
	st, err := b.JS.Stream(ctx, StreamAccounts)
	if err != nil {
		return FeedPosition{}, 0, fmt.Errorf("feed stream: %w", err)
	}
	state := st.CachedInfo().State
	pos := FeedPosition{StreamSeq: state.LastSeq}
	if state.Msgs == 0 {
		return pos, state.FirstSeq, nil // never written, or aged out (feed.max_age)
	}
	m, err := st.GetMsg(ctx, state.LastSeq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return pos, state.FirstSeq, nil
	}
	if err != nil {
		return FeedPosition{}, 0, fmt.Errorf("feed stream: last message: %w", err)
	}
	if pos.Seq, err = strconv.ParseInt(m.Header.Get(HeaderFeedSeq), 10, 64); err != nil {
		return FeedPosition{}, 0, fmt.Errorf("feed stream: last message %d has no %s header", m.Sequence, HeaderFeedSeq)
	}
	return pos, state.FirstSeq, nil
}

// PublishFeed publishes account changes in order after pos. Each names
// the stream sequence it must follow (Nats-Expected-Last-Sequence): only
// the relay writes the stream, so JetStream refuses a change published out
// of turn or twice, and the stream never has a gap or a repeat. There is
// no Nats-Msg-Id: the expected sequence already refuses a repeat, and the
// de-duplication map cost nats-server about half again its CPU in a
// 100,000-account first sync. It returns where the stream then stands,
// and an error if it could not publish them all.
func (b *Bus) PublishFeed(ctx context.Context, pos FeedPosition, msgs []FeedMsg) (FeedPosition, error) {
	futures := make([]jetstream.PubAckFuture, 0, len(msgs))
	for i, m := range msgs {
		nm := &nats.Msg{Subject: events.FeedSubject(m.Domain), Data: m.Payload, Header: nats.Header{}}
		nm.Header.Set(metaName, (events.AccountChanged{}).EventName())
		nm.Header.Set(HeaderFeedSeq, strconv.FormatInt(m.Seq, 10))
		f, err := b.JS.PublishMsgAsync(nm, jetstream.WithExpectLastSequence(pos.StreamSeq+uint64(i)))
		if err != nil {
			break
		}
		futures = append(futures, f)
	}
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	for i, f := range futures {
		select {
		case ack := <-f.Ok():
			pos = FeedPosition{Seq: msgs[i].Seq, StreamSeq: ack.Sequence}
		case err := <-f.Err():
			return pos, fmt.Errorf("publish account change %d: %w", msgs[i].Seq, err)
		case <-deadline.C:
			return pos, fmt.Errorf("publish account change %d: no acknowledgement from JetStream", msgs[i].Seq)
		case <-ctx.Done():
			return pos, ctx.Err()
		}
	}
	if len(futures) < len(msgs) {
		return pos, fmt.Errorf("publish account change %d: the connection refused it", msgs[len(futures)].Seq)
	}
	return pos, nil
}

// ErrFeedExpired means the feed no longer holds a change asked for: it
// keeps them for feed.max_age.
var ErrFeedExpired = errors.New("the account feed no longer holds that change")

// FeedStart returns the stream sequence of the account change numbered
// from, and of the next change to come if the feed does not hold that one
// yet. The relay publishes every change once, in order, with no gap, so
// the two numberings differ by a constant, read off the last message.
func (b *Bus) FeedStart(ctx context.Context, from int64) (uint64, error) {
	pos, first, err := b.feedState(ctx)
	if err != nil {
		return 0, err
	}
	if pos.Seq == 0 || from > pos.Seq {
		return pos.StreamSeq + 1 + uint64(max(0, from-pos.Seq-1)), nil
	}
	streamSeq := int64(pos.StreamSeq) - (pos.Seq - from)
	if streamSeq < int64(first) || from < 1 {
		return 0, fmt.Errorf("change %d: %w (it holds %d to %d): start again from a snapshot", from, ErrFeedExpired,
			pos.Seq-int64(pos.StreamSeq-first), pos.Seq)
	}
	return uint64(streamSeq), nil
}

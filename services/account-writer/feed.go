package accountwriter

import (
	"context"
	"time"

	"github.com/adsync/adsync/internal/bus"
)

// The account change feed: the store writes each change to its outbox in
// the transaction that commits it (internal/accounts/feed_sqlite.go);
// RelayFeed publishes the outbox to JetStream in order and deletes what
// the stream holds. After a crash it starts from the last change the
// stream holds, so a change committed but not yet published goes out
// after the restart, once.

// FeedPublisher publishes the account change feed (the bus).
type FeedPublisher interface {
	LastFeedSeq(ctx context.Context) (int64, error)
	PublishFeed(ctx context.Context, after int64, msgs []bus.FeedMsg) (int64, error)
}

// feedBatch is how many changes one round of the relay publishes.
const feedBatch = 1000

// kickFeed wakes the relay: changes were committed.
func (s *Service) kickFeed() {
	select {
	case s.feedKick <- struct{}{}:
	default:
	}
}

// RelayFeed publishes the outbox until ctx ends.
func (s *Service) RelayFeed(ctx context.Context, pub FeedPublisher) error {
	log := s.log.With("relay", "account-feed")
	after := int64(-1) // not known: asked of the stream
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	wait := func(d time.Duration) bool {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-s.feedKick:
		case <-tick.C:
		case <-t.C:
		}
		return true
	}
	for ctx.Err() == nil {
		if after < 0 {
			last, err := pub.LastFeedSeq(ctx)
			if err != nil {
				log.Warn("account feed: cannot read the stream's last change; trying again", "err", err)
				if !wait(2 * time.Second) {
					break
				}
				continue
			}
			if err := s.store.FeedPublished(ctx, last); err != nil {
				return stopped(ctx, err)
			}
			after = last
		}
		batch, err := s.store.Outbox(ctx, after, feedBatch)
		if err != nil {
			return stopped(ctx, err)
		}
		if len(batch) == 0 {
			if !wait(time.Minute) {
				break
			}
			continue
		}
		msgs := make([]bus.FeedMsg, len(batch))
		for i, e := range batch {
			msgs[i] = bus.FeedMsg{Seq: e.Seq, Domain: e.Domain, Payload: e.Payload()}
		}
		last, pubErr := pub.PublishFeed(ctx, after, msgs)
		if last > after {
			if err := s.store.FeedPublished(ctx, last); err != nil {
				return stopped(ctx, err)
			}
			after = last
		}
		if pubErr != nil {
			if ctx.Err() != nil {
				break
			}
			log.Warn("account feed: publishing stopped; resuming from the stream's last change", "after", after, "err", pubErr)
			after = -1
			if !wait(time.Second) {
				break
			}
		}
	}
	return nil
}

// stopped is err, unless ctx ended (shutting down: not a failure).
func stopped(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

package accountwriter

import (
	"context"
	"time"

	"github.com/adsync/adsync/internal/infra/bus"
)

// The account change feed: the store writes each change to its outbox in
// the transaction that commits it (internal/accounts/feed_sqlite.go);
// RelayFeed publishes the outbox to JetStream in order and deletes what
// the stream holds. After a crash it starts from the last change the
// stream holds, so a change committed but not yet published goes out
// after the restart, once.

// FeedPublisher publishes the account change feed (the bus).
type FeedPublisher interface {
	FeedPosition(ctx context.Context) (bus.FeedPosition, error)
	PublishFeed(ctx context.Context, pos bus.FeedPosition, msgs []bus.FeedMsg) (bus.FeedPosition, error)
}

const (
	// feedBatch is how many changes one round of the relay publishes.
	feedBatch = 2000
	// feedForgetEvery: published rows are deleted from the outbox this
	// many at a time, or when it is drained. The store has one
	// connection: a delete after every round held back the run's own
	// transactions (a first sync of 100,000 ended a second later).
	feedForgetEvery = 20000
)

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
	known := false // where the stream stands, once asked
	var pos bus.FeedPosition
	var forgotten int64 // outbox rows up to this one are deleted
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
	forget := func() error {
		if pos.Seq <= forgotten {
			return nil
		}
		if err := s.store.FeedPublished(ctx, pos.Seq); err != nil {
			return err
		}
		forgotten = pos.Seq
		return nil
	}
	for ctx.Err() == nil {
		if !known {
			p, err := pub.FeedPosition(ctx)
			if err != nil {
				log.Warn("account feed: cannot read where the stream stands; trying again", "err", err)
				if !wait(2 * time.Second) {
					break
				}
				continue
			}
			pos, known, forgotten = p, true, 0
			if err := forget(); err != nil {
				return stopped(ctx, err)
			}
		}
		batch, err := s.store.Outbox(ctx, pos.Seq, feedBatch)
		if err != nil {
			return stopped(ctx, err)
		}
		if len(batch) == 0 {
			if err := forget(); err != nil {
				return stopped(ctx, err)
			}
			if !wait(time.Minute) {
				break
			}
			continue
		}
		msgs := make([]bus.FeedMsg, len(batch))
		for i, e := range batch {
			msgs[i] = bus.FeedMsg{Seq: e.Seq, Domain: e.Domain, Payload: e.Payload()}
		}
		var pubErr error
		pos, pubErr = pub.PublishFeed(ctx, pos, msgs)
		if pos.Seq-forgotten >= feedForgetEvery {
			if err := forget(); err != nil {
				return stopped(ctx, err)
			}
		}
		if pubErr != nil {
			if ctx.Err() != nil {
				break
			}
			log.Warn("account feed: publishing stopped; resuming from the stream's last change", "after", pos.Seq, "err", pubErr)
			known = false
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

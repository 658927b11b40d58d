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
	// 2,000 took account-writer's peak RSS at 1,000,000 accounts to
	// 140 MB once the relay published alongside a first sync's pages; 500
	// to 118 MB, the feed still done within 2 s of the run's end.
	feedBatch = 500
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
	// Published rows are deleted on a goroutine of their own: the delete
	// waits for the store's one writer connection, which a page of a
	// first sync, or the building of its indexes once it ends (seconds at
	// 1,000,000 accounts), holds; the relay goes on publishing meanwhile.
	// One delete waits at most; a newer one replaces it.
	deletes := make(chan int64, 1)
	deleted := make(chan struct{})
	go func() {
		defer close(deleted)
		for seq := range deletes {
			if err := s.store.FeedPublished(ctx, seq); err != nil && ctx.Err() == nil {
				log.Warn("account feed: published changes not deleted from the outbox; a later delete covers them", "up_to", seq, "err", err)
			}
		}
	}()
	defer func() {
		close(deletes)
		<-deleted
	}()
	forget := func() {
		if pos.Seq <= forgotten {
			return
		}
		select {
		case <-deletes: // not started yet: replaced
		default:
		}
		deletes <- pos.Seq
		forgotten = pos.Seq
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
			forget()
		}
		batch, err := s.store.Outbox(ctx, pos.Seq, feedBatch)
		if err != nil {
			return stopped(ctx, err)
		}
		if len(batch) == 0 {
			forget()
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
			forget()
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

package guard

import (
	"context"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/adsync/adsync/events"
)

// HandleCompleted releases the job's lease when its run finished.
func (s *Service) HandleCompleted(ctx context.Context, c *events.SyncCompleted) error {
	lease, rev, err := currentLease(ctx, s.stores.Leases, c.Job)
	if err != nil || lease == nil || lease.RunID != c.RunID {
		return err
	}
	err = s.stores.Leases.Delete(ctx, leaseKey(c.Job), jetstream.LastRevision(rev))
	if isWrongSequence(err) {
		return nil // taken over meanwhile by a newer run
	}
	return err
}

package guard

import (
	"context"

	"github.com/adsync/adsync/events"
)

// HandleCompleted releases the job's lease when its run finished (the
// writer releases it before it publishes sync.completed; this covers a
// writer that could not).
func (s *Service) HandleCompleted(ctx context.Context, c *events.SyncCompleted) error {
	return s.stores.Leases.Release(ctx, c.Job, c.RunID)
}

package guard

import (
	"context"

	"github.com/adsync/adsync/events"
)

// HandleCompleted releases the job's lease when its run finished. guard
// alone takes and releases leases (internal/leases).
func (s *Service) HandleCompleted(ctx context.Context, c *events.SyncCompleted) error {
	return s.stores.Leases.Release(ctx, c.Job, c.RunID)
}

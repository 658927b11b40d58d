package accountwriter

import (
	"context"
	"fmt"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/bus"
)

// HandleChangesCompleted records diff's word that a domain is done; the
// domain is finished once all its batches are applied, and the run when its
// last domain is.
func (s *Service) HandleChangesCompleted(ctx context.Context, c *events.ChangesCompleted) error {
	finished, err := s.store.ExpectBatches(ctx, c)
	if err != nil {
		return err
	}
	if !finished {
		bus.Logger(ctx).Debug("domain waits for its last batches", "batches", c.Batches)
		return nil
	}
	return s.completeRun(ctx, c.RunID)
}

// completeRun publishes the run's sync.completed once every domain has an
// outcome.
func (s *Service) completeRun(ctx context.Context, runID string) error {
	ev, err := s.store.CompletedRun(ctx, runID)
	if err != nil || ev == nil {
		return err
	}
	if err := s.pub.Publish(ctx, ev); err != nil {
		return bus.RetryAfter(0, fmt.Errorf("publish sync.completed: %w", err))
	}
	for _, d := range ev.Domains {
		bus.Logger(ctx).Info("domain finished", "domain", d.Domain, "outcome", d.Outcome, "reason", d.Reason, "entries", d.Entries,
			"created", d.Created, "updated", d.Updated, "deactivated", d.Deactivated, "reactivated", d.Reactivated, "unchanged", d.Unchanged)
	}
	bus.Logger(ctx).Info("run finished", "outcome", ev.Outcome, "created", ev.Totals.Created, "updated", ev.Totals.Updated,
		"deactivated", ev.Totals.Deactivated, "reactivated", ev.Totals.Reactivated, "unchanged", ev.Totals.Unchanged)
	return s.store.MarkRunPublished(ctx, runID)
}

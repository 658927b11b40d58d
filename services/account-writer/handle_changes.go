package accountwriter

import (
	"context"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/bus"
)

// HandleChanges applies a batch of account changes, once. The last batch a
// finished domain waited for finishes it.
func (s *Service) HandleChanges(ctx context.Context, b *events.AccountChanges) error {
	res, err := s.store.ApplyBatch(ctx, b.MessageID(), b)
	if err != nil {
		return err
	}
	log := bus.Logger(ctx)
	if res.Duplicate {
		log.Debug("batch already applied", "batch", b.Batch)
	} else {
		log.Debug("batch applied", "batch", b.Batch, "created", res.Created, "updated", res.Updated,
			"deactivated", res.Deactivated, "reactivated", res.Reactivated, "stale", res.Stale, "held", res.Held)
	}
	if res.DomainFinished || res.Duplicate {
		// A duplicate may be the redelivery of a batch whose run's
		// completion was not published before a crash.
		return s.completeRun(ctx, b.RunID)
	}
	return nil
}

package diff

import (
	"context"

	"github.com/adsync/adsync/events"
)

// HandleDecided acts on an administrator's decision on a held plan:
// approved, diff keeps the plan's changes in its record; discarded, it puts
// its record back as it was before the run. Either way the hold is lifted.
func (s *Service) HandleDecided(ctx context.Context, d *events.PlanDecided) error {
	plan, err := s.holds.Get(ctx, d.Domain)
	if err != nil {
		return err
	}
	if plan == nil || plan.RunID != d.RunID {
		return nil // decided already, or not held
	}
	err = s.state.InTx(ctx, func(tx *Tx) error {
		if d.Decision == events.DecisionApprove {
			if err := tx.KeepChanges(d.RunID, d.Domain); err != nil {
				return err
			}
			return tx.SetLastGood(d.Domain, d.RunID, plan.Hold.Entries)
		}
		return tx.Undo(d.RunID, d.Domain)
	})
	if err != nil {
		return err
	}
	return s.holds.Delete(ctx, d.Domain, d.RunID)
}

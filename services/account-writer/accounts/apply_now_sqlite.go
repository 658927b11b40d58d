package accounts

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/adsync/adsync/events"
)

// appliesNow says whether a batch is applied as it arrives: a page of a
// domain's first sync (diff's word, events.AccountChanges.ApplyNow), never
// in a dry run, and never a batch that deactivates — diff does not mark
// one, and a deactivation waits for the plan the deletion guard checks.
func appliesNow(b *events.AccountChanges) bool {
	if !b.ApplyNow || b.DryRun {
		return false
	}
	for _, ch := range b.Changes {
		if ch.Op == events.OpDeactivate || ch.Entry == nil {
			return false
		}
	}
	return true
}

// appliedNow sums what the batches of a run's domain applied as they
// arrived (appliesNow, applyBatch). Called as the domain finishes, before its staged
// plan is applied or dropped, these are the only applied batches of the
// domain.
func (s *Store) appliedNow(ctx context.Context, tx *sql.Tx, runID, domain string) (Applied, error) {
	var a Applied
	err := tx.QueryRowContext(ctx, `SELECT coalesce(sum(created),0), coalesce(sum(updated),0), coalesce(sum(deactivated),0), coalesce(sum(reactivated),0),
		coalesce(sum(joined),0), coalesce(sum(left_groups),0), coalesce(sum(stale),0), coalesce(sum(failed),0), coalesce(sum(unchanged),0)
		FROM applied_batches WHERE run_id=? AND domain=?`, runID, domain).
		Scan(&a.Created, &a.Updated, &a.Deactivated, &a.Reactivated, &a.Joined, &a.Left, &a.Stale, &a.Failed, &a.Unchanged)
	if err != nil {
		return a, fmt.Errorf("accounts: what %s applied as it read in %s: %w", domain, runID, err)
	}
	return a, nil
}

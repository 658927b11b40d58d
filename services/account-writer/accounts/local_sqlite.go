package accounts

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/adsync/adsync/events"
)

// DeactivateLocally deactivates an account by an administrator's decision:
// it stays inactive whatever the directory says until ReactivateLocally.
// by names the administrator (the feed's actor).
func (s *Store) DeactivateLocally(ctx context.Context, ref, note, by string) (Account, error) {
	a, err := s.Find(ctx, ref)
	if err != nil {
		return a, err
	}
	if note == "" {
		return a, fmt.Errorf("%w (--reason)", ErrNoReason)
	}
	err = s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		now := s.stamp()
		_, err := tx.ExecContext(ctx, `UPDATE accounts SET active=0, inactive_reason=?, deactivated_by='local', local_note=?, updated_at=?,
			deactivated_at=CASE WHEN active=1 THEN ? ELSE deactivated_at END WHERE domain=? AND external_id=?`,
			events.ReasonLocal, note, now, now, a.Domain, a.ExternalID)
		if err != nil {
			return fmt.Errorf("accounts: deactivate %s: %w", a.LocalName, err)
		}
		return s.feed(ctx, tx, events.AccountChanged{Change: events.ChangeHoldSet, Fields: []string{"active", "inactive_reason"},
			Reason: events.ReasonLocal, Actor: actor(by)}, a.Domain, a.ExternalID)
	})
	if err != nil {
		return a, err
	}
	return s.Find(ctx, a.LocalName)
}

// ReactivateLocally lifts an administrator's hold: the account takes the
// directory's state again (active, or inactive for the directory's reason).
func (s *Store) ReactivateLocally(ctx context.Context, ref, by string) (Account, error) {
	a, err := s.Find(ctx, ref)
	if err != nil {
		return a, err
	}
	if a.DeactivatedBy != ByLocal {
		return a, fmt.Errorf("account %s has %w (it is %s)", a.LocalName, ErrNoHold, stateText(a))
	}
	err = s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		now := s.stamp()
		_, err := tx.ExecContext(ctx, `UPDATE accounts SET active=directory_active, local_note='', updated_at=?,
			inactive_reason=CASE WHEN directory_active=1 THEN '' ELSE directory_reason END,
			deactivated_by=CASE WHEN directory_active=1 THEN '' ELSE 'sync' END,
			deactivated_at=CASE WHEN directory_active=1 THEN '' ELSE deactivated_at END
			WHERE domain=? AND external_id=?`, now, a.Domain, a.ExternalID)
		if err != nil {
			return fmt.Errorf("accounts: reactivate %s: %w", a.LocalName, err)
		}
		return s.feed(ctx, tx, events.AccountChanged{Change: events.ChangeHoldLifted, Fields: []string{"active", "inactive_reason"},
			Actor: actor(by)}, a.Domain, a.ExternalID)
	})
	if err != nil {
		return a, err
	}
	return s.Find(ctx, a.LocalName)
}

// actor names who set or lifted a local hold.
func actor(by string) string {
	if by == "" {
		return "administrator"
	}
	return by
}

func stateText(a Account) string {
	if a.Active {
		return "active"
	}
	return "inactive: " + a.InactiveReason
}

package accounts

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/sqlite"
	"github.com/adsync/adsync/schemas"
)

// Store is the SQLite account store. Each batch of changes is applied in
// one transaction together with the record that it was applied, so a
// redelivered batch is applied once. Accounts are never deleted.
type Store struct {
	db  *sql.DB
	now func() time.Time
}

// Open opens (and migrates) the account store at path.
func Open(ctx context.Context, path string, now func() time.Time) (*Store, error) {
	migrations, err := schemas.Migrations("accounts")
	if err != nil {
		return nil, err
	}
	db, err := sqlite.Open(ctx, path, migrations)
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	return &Store{db: db, now: now}, nil
}

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

func (s *Store) stamp() string { return s.now().UTC().Format(time.RFC3339Nano) }

// Applied is what applying a batch did.
type Applied struct {
	events.Counts
	// Stale counts changes older than the account's state (ignored).
	Stale int
	// Held counts reactivations refused because an administrator
	// deactivated the account locally.
	Held int
	// Duplicate is true when the batch had been applied before.
	Duplicate bool
	// DomainFinished is true when this was the last batch a finished
	// domain waited for.
	DomainFinished bool
}

// ApplyBatch applies a batch of changes, once.
func (s *Store) ApplyBatch(ctx context.Context, messageID string, b *events.AccountChanges) (Applied, error) {
	var res Applied
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("accounts: begin: %w", err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM applied_batches WHERE message_id=?`, messageID).Scan(&n); err != nil {
		return res, err
	}
	if n > 0 {
		res.Duplicate = true
		return res, nil
	}
	ap, err := newApplier(ctx, tx, s.stamp(), b.RunID)
	if err != nil {
		return res, err
	}
	defer ap.close()
	for _, c := range b.Changes {
		if err := ap.apply(b.Domain, c, &res); err != nil {
			return res, fmt.Errorf("accounts: apply %s of %s/%s: %w", c.Op, b.Domain, c.ExternalID, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO applied_batches (message_id, run_id, domain, attempt, created, updated, deactivated, reactivated, skipped, applied_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, messageID, b.RunID, b.Domain, b.Attempt,
		res.Created, res.Updated, res.Deactivated, res.Reactivated, res.Stale, s.stamp()); err != nil {
		return res, fmt.Errorf("accounts: record batch: %w", err)
	}
	if res.DomainFinished, err = s.finishPending(ctx, tx, b.RunID, b.Domain, b.Attempt); err != nil {
		return res, err
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("accounts: commit: %w", err)
	}
	return res, nil
}

type applier struct {
	ctx    context.Context
	now    string
	runID  string
	get    *sql.Stmt
	upsert *sql.Stmt
	deact  *sql.Stmt
}

func newApplier(ctx context.Context, tx *sql.Tx, now, runID string) (*applier, error) {
	a := &applier{ctx: ctx, now: now, runID: runID}
	var err error
	if a.get, err = tx.PrepareContext(ctx, `SELECT version, active, deactivated_by FROM accounts WHERE domain=? AND external_id=?`); err != nil {
		return nil, err
	}
	if a.upsert, err = tx.PrepareContext(ctx, `INSERT INTO accounts (domain, external_id, username, upn, email, display_name, given_name, surname, dn, groups,
			active, inactive_reason, deactivated_by, version, created_at, updated_at, deactivated_at, last_run_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (domain, external_id) DO UPDATE SET username=excluded.username, upn=excluded.upn, email=excluded.email,
			display_name=excluded.display_name, given_name=excluded.given_name, surname=excluded.surname, dn=excluded.dn,
			groups=excluded.groups, active=excluded.active, inactive_reason=excluded.inactive_reason,
			deactivated_by=excluded.deactivated_by, version=excluded.version, updated_at=excluded.updated_at,
			deactivated_at=CASE WHEN excluded.active=0 AND accounts.active=1 THEN excluded.updated_at
			                    WHEN excluded.active=1 THEN '' ELSE accounts.deactivated_at END,
			last_run_id=excluded.last_run_id`); err != nil {
		return nil, err
	}
	if a.deact, err = tx.PrepareContext(ctx, `UPDATE accounts SET active=0, inactive_reason=?, deactivated_by=?, version=?, updated_at=?,
			deactivated_at=CASE WHEN active=1 THEN ? ELSE deactivated_at END, last_run_id=?
		WHERE domain=? AND external_id=?`); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *applier) close() {
	for _, st := range []*sql.Stmt{a.get, a.upsert, a.deact} {
		if st != nil {
			st.Close()
		}
	}
}

func (a *applier) apply(domain string, c events.AccountChange, res *Applied) error {
	var version int64
	var active bool
	var by string
	err := a.get.QueryRowContext(a.ctx, domain, c.ExternalID).Scan(&version, &active, &by)
	exists := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if exists && version > c.Version {
		res.Stale++
		return nil
	}
	if c.Entry == nil {
		// Gone from the directory: deactivate, never delete.
		if !exists {
			res.Stale++
			return nil
		}
		reason, deactivatedBy := c.Reason, BySync
		if _, err := a.deact.ExecContext(a.ctx, reason, deactivatedBy, c.Version, a.now, a.now, a.runID, domain, c.ExternalID); err != nil {
			return err
		}
		res.Counts = res.Counts.Add(events.CountOp(c.Op))
		return nil
	}
	e := c.Entry
	newActive := !e.Disabled
	reason, deactivatedBy := "", ""
	if !newActive {
		reason, deactivatedBy = e.DisabledReason, BySync
	}
	op := c.Op
	if exists && by == ByLocal {
		// An administrator deactivated this account: the sync updates its
		// fields but never re-enables it.
		if newActive {
			res.Held++
			if op == events.OpReactivate {
				op = events.OpUpdate
			}
		}
		newActive, reason, deactivatedBy = false, events.ReasonLocal, ByLocal
	}
	groups, _ := json.Marshal(nonNil(e.Groups))
	if _, err := a.upsert.ExecContext(a.ctx, domain, c.ExternalID, e.Username, e.UPN, e.Email, e.DisplayName, e.GivenName, e.Surname, e.DN, string(groups),
		newActive, reason, deactivatedBy, c.Version, a.now, a.now, deactivatedAt(newActive, a.now), a.runID); err != nil {
		return err
	}
	if !exists {
		op = events.OpCreate
	}
	res.Counts = res.Counts.Add(events.CountOp(op))
	return nil
}

func deactivatedAt(active bool, now string) string {
	if active {
		return ""
	}
	return now
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

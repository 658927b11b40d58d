package accounts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
)

// reporter writes the per-account report of a run, at most ReportMaxRows
// rows per run; the rows left out are counted per domain
// (run_report_truncated), so that a cut-off report says so.
type reporter struct {
	ctx   context.Context
	tx    *sql.Tx
	runID string
	now   string
	rows  int
	max   int
	// counted is the rows run_report_rows holds for the run (-1: none):
	// keep records rows there if it changed.
	counted int
	failed  int
	stmt    *sql.Stmt
	cut     *sql.Stmt
	// replace makes add update the account's row of the run instead of
	// adding one (the account was changed earlier in the same plan: its
	// row's rowid is in plan_accounts).
	replace bool
	update  *sql.Stmt
	// keepRowID makes add remember the rowid of the row it adds in
	// lastRowID (0: no row added).
	keepRowID bool
	lastRowID int64
}

func (s *Store) newReporter(ctx context.Context, tx *sql.Tx, runID string) (*reporter, error) {
	r := &reporter{ctx: ctx, tx: tx, runID: runID, now: s.stamp(), max: s.opt.ReportMaxRows}
	err := tx.QueryRowContext(ctx, `SELECT rows FROM run_report_rows WHERE run_id=?`, runID).Scan(&r.rows)
	r.counted = r.rows
	if errors.Is(err, sql.ErrNoRows) {
		err = tx.QueryRowContext(ctx, `SELECT count(*) FROM run_changes WHERE run_id=?`, runID).Scan(&r.rows)
		r.counted = -1 // not kept yet
	}
	if err != nil {
		return nil, err
	}
	if r.stmt, err = s.db.Stmt(ctx, tx, `INSERT INTO run_changes (run_id, domain, external_id, local_name, op, fields, reason, result, error, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`); err != nil {
		return nil, err
	}
	if r.cut, err = s.db.Stmt(ctx, tx, `INSERT INTO run_report_truncated (run_id, domain, rows) VALUES (?1, ?2, ?3)
		ON CONFLICT (run_id, domain) DO UPDATE SET rows=rows+?3`); err != nil {
		return nil, err
	}
	r.update, err = s.db.Stmt(ctx, tx, `UPDATE run_changes SET local_name=?4, op=?5, fields=?6, reason=?7, result=?8, error=?9, at=?10
		WHERE rowid=(SELECT report_rowid FROM plan_accounts WHERE domain=?2 AND external_id=?3) AND run_id=?1`)
	return r, err
}

func (r *reporter) add(domain string, ch events.AccountChange, name, result, note string) error {
	if r.replace {
		// The account's row (if it was listed) now tells its newest change.
		fields, _ := json.Marshal(nonNil(ch.Fields))
		_, err := r.update.ExecContext(r.ctx, r.runID, domain, ch.ExternalID, name, ch.Op, string(fields), ch.Reason, result, note, r.now)
		return err
	}
	if r.rows >= r.max && result != ResultFailed {
		// Bounded; failures are always listed. The row is counted as not listed.
		return r.cutMany(domain, 1)
	}
	r.rows++
	fields, _ := json.Marshal(nonNil(ch.Fields))
	res, err := r.stmt.ExecContext(r.ctx, r.runID, domain, ch.ExternalID, name, ch.Op, string(fields), ch.Reason, result, note, r.now)
	if err == nil && r.keepRowID {
		r.lastRowID, err = res.LastInsertId()
	}
	return err
}

// cutMany counts n report rows of a domain that are not listed.
func (r *reporter) cutMany(domain string, n int) error {
	if _, err := r.cut.ExecContext(r.ctx, r.runID, domain, n); err != nil {
		return fmt.Errorf("accounts: count %d report rows not listed: %w", n, err)
	}
	return nil
}

// keep records the run's row count (run_report_rows) in the caller's
// transaction, for the next reporter of the run: each path that adds rows
// calls it before its transaction commits.
func (r *reporter) keep() error {
	if r.rows == r.counted {
		return nil
	}
	if _, err := r.tx.ExecContext(r.ctx, `INSERT INTO run_report_rows (run_id, rows) VALUES (?, ?)
		ON CONFLICT (run_id) DO UPDATE SET rows=excluded.rows`, r.runID, r.rows); err != nil {
		return fmt.Errorf("accounts: keep the report's row count of %s: %w", r.runID, err)
	}
	r.counted = r.rows
	return nil
}

func (r *reporter) close() {
	for _, st := range []*sql.Stmt{r.stmt, r.cut, r.update} {
		if st != nil {
			st.Close()
		}
	}
}

// truncated returns, per domain, the rows of a run's report that were not
// listed (only domains with some).
func (s *Store) truncated(ctx context.Context, runID string) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT domain, rows FROM run_report_truncated WHERE run_id=? AND rows>0`, runID)
	if err != nil {
		return nil, fmt.Errorf("accounts: rows not listed of %s: %w", runID, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var d string
		var n int
		if err := rows.Scan(&d, &n); err != nil {
			return nil, err
		}
		out[d] = n
	}
	return out, rows.Err()
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

package accounts

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/adsync/adsync/events"
)

// reporter writes the per-account report of a run, at most ReportMaxRows
// rows per run.
type reporter struct {
	ctx    context.Context
	tx     *sql.Tx
	runID  string
	now    string
	rows   int
	max    int
	failed int
	stmt   *sql.Stmt
}

func (s *Store) newReporter(ctx context.Context, tx *sql.Tx, runID string) (*reporter, error) {
	r := &reporter{ctx: ctx, tx: tx, runID: runID, now: s.stamp(), max: s.opt.ReportMaxRows}
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM run_changes WHERE run_id=?`, runID).Scan(&r.rows); err != nil {
		return nil, err
	}
	var err error
	r.stmt, err = tx.PrepareContext(ctx, `INSERT INTO run_changes (run_id, domain, external_id, local_name, op, fields, reason, result, error, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	return r, err
}

func (r *reporter) add(domain string, ch events.AccountChange, name, result, note string) error {
	if r.rows >= r.max && result != ResultFailed {
		return nil // bounded; failures are always listed
	}
	r.rows++
	fields, _ := json.Marshal(nonNil(ch.Fields))
	_, err := r.stmt.ExecContext(r.ctx, r.runID, domain, ch.ExternalID, name, ch.Op, string(fields), ch.Reason, result, note, r.now)
	return err
}

func (r *reporter) close() {
	if r.stmt != nil {
		r.stmt.Close()
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

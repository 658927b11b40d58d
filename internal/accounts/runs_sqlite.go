package accounts

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/adsync/adsync/events"
)

// ExpectBatches records diff's word that a domain of a run is done after
// c.Batches batches of its attempt. The domain is finished at once if they
// are all applied, otherwise when the last one is (ApplyBatch). It reports
// whether the domain is finished.
func (s *Store) ExpectBatches(ctx context.Context, c *events.ChangesCompleted) (bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("accounts: begin: %w", err)
	}
	defer tx.Rollback()
	run, _ := json.Marshal(c.Run)
	domains, _ := json.Marshal(c.Domains)
	if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO runs (run_id, run, domains) VALUES (?, ?, ?)`, c.RunID, string(run), string(domains)); err != nil {
		return false, fmt.Errorf("accounts: record run %s: %w", c.RunID, err)
	}
	var done int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM run_domains WHERE run_id=? AND domain=?`, c.RunID, c.Domain).Scan(&done); err != nil {
		return false, err
	}
	if done > 0 {
		return true, tx.Commit()
	}
	applied, err := appliedBatches(ctx, tx, c.RunID, c.Domain, c.Attempt)
	if err != nil {
		return false, err
	}
	finished := applied >= c.Batches
	if finished {
		err = s.finishDomain(ctx, tx, c)
	} else {
		ending, _ := json.Marshal(c)
		_, err = tx.ExecContext(ctx, `INSERT OR REPLACE INTO pending_domains (run_id, domain, attempt, batches, ending) VALUES (?, ?, ?, ?, ?)`,
			c.RunID, c.Domain, c.Attempt, c.Batches, string(ending))
	}
	if err != nil {
		return false, err
	}
	return finished, tx.Commit()
}

func appliedBatches(ctx context.Context, tx *sql.Tx, runID, domain string, attempt int) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM applied_batches WHERE run_id=? AND domain=? AND attempt=?`, runID, domain, attempt).Scan(&n)
	return n, err
}

// finishPending finishes a domain waiting for this batch, if it was the
// last one it waited for.
func (s *Store) finishPending(ctx context.Context, tx *sql.Tx, runID, domain string, attempt int) (bool, error) {
	var batches int
	var ending string
	err := tx.QueryRowContext(ctx, `SELECT batches, ending FROM pending_domains WHERE run_id=? AND domain=? AND attempt=?`, runID, domain, attempt).Scan(&batches, &ending)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	applied, err := appliedBatches(ctx, tx, runID, domain, attempt)
	if err != nil || applied < batches {
		return false, err
	}
	var c events.ChangesCompleted
	if err := json.Unmarshal([]byte(ending), &c); err != nil {
		return false, fmt.Errorf("accounts: pending end of %s in %s is unreadable: %w", domain, runID, err)
	}
	return true, s.finishDomain(ctx, tx, &c)
}

// finishDomain records a domain's outcome with what every attempt of the
// run applied to it.
func (s *Store) finishDomain(ctx context.Context, tx *sql.Tx, c *events.ChangesCompleted) error {
	var k events.Counts
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(sum(created),0), coalesce(sum(updated),0), coalesce(sum(deactivated),0), coalesce(sum(reactivated),0)
		FROM applied_batches WHERE run_id=? AND domain=?`, c.RunID, c.Domain).Scan(&k.Created, &k.Updated, &k.Deactivated, &k.Reactivated); err != nil {
		return err
	}
	k.Unchanged = c.Planned.Unchanged
	if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO run_domains (run_id, domain, job, outcome, reason, attempts, entries, skipped,
		created, updated, deactivated, reactivated, unchanged, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.RunID, c.Domain, c.Job, c.Outcome, c.Reason, c.Attempts, c.Entries, c.Skipped,
		k.Created, k.Updated, k.Deactivated, k.Reactivated, k.Unchanged, s.stamp()); err != nil {
		return fmt.Errorf("accounts: record outcome of %s in %s: %w", c.Domain, c.RunID, err)
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM pending_domains WHERE run_id=? AND domain=?`, c.RunID, c.Domain)
	return err
}

// CompletedRun returns the run's sync.completed once every domain has an
// outcome and it was not published yet; otherwise nil.
func (s *Store) CompletedRun(ctx context.Context, runID string) (*events.SyncCompleted, error) {
	var runRaw, domainsRaw, published string
	err := s.db.QueryRowContext(ctx, `SELECT run, domains, published_at FROM runs WHERE run_id=?`, runID).Scan(&runRaw, &domainsRaw, &published)
	if errors.Is(err, sql.ErrNoRows) || err == nil && published != "" {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	ev := &events.SyncCompleted{Reasons: []string{}}
	var domains []string
	if err := json.Unmarshal([]byte(runRaw), &ev.Run); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(domainsRaw), &domains); err != nil {
		return nil, err
	}
	results, err := s.domainResults(ctx, runID)
	if err != nil {
		return nil, err
	}
	completed := 0
	for _, d := range domains {
		r, ok := results[d]
		if !ok {
			return nil, nil // another domain is still going
		}
		ev.Domains = append(ev.Domains, r)
		ev.Totals = ev.Totals.Add(r.Counts)
		if r.Outcome == events.OutcomeCompleted {
			completed++
		} else {
			ev.Reasons = append(ev.Reasons, fmt.Sprintf("domain %q %s: %s", d, r.Outcome, r.Reason))
		}
	}
	switch completed {
	case len(domains):
		ev.Outcome = events.OutcomeCompleted
	case 0:
		ev.Outcome = events.OutcomeFailed
	default:
		ev.Outcome = events.OutcomePartial
	}
	ev.FinishedAt = s.now().UTC()
	return ev, nil
}

func (s *Store) domainResults(ctx context.Context, runID string) (map[string]events.DomainResult, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT domain, outcome, reason, attempts, entries, skipped, created, updated, deactivated, reactivated, unchanged
		FROM run_domains WHERE run_id=?`, runID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]events.DomainResult{}
	for rows.Next() {
		var r events.DomainResult
		if err := rows.Scan(&r.Domain, &r.Outcome, &r.Reason, &r.Attempts, &r.Entries, &r.Skipped,
			&r.Created, &r.Updated, &r.Deactivated, &r.Reactivated, &r.Unchanged); err != nil {
			return nil, err
		}
		out[r.Domain] = r
	}
	return out, rows.Err()
}

// MarkRunPublished records that a run's sync.completed was published.
func (s *Store) MarkRunPublished(ctx context.Context, runID string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE runs SET published_at=? WHERE run_id=?`, s.stamp(), runID)
	return err
}

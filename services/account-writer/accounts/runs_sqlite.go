package accounts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
)

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
	results, err := s.DomainResults(ctx, runID)
	if err != nil {
		return nil, err
	}
	byDomain := map[string]events.DomainResult{}
	for _, r := range results {
		byDomain[r.Domain] = r
	}
	for _, d := range domains {
		if _, ok := byDomain[d]; !ok {
			return nil, nil // another domain is still going
		}
	}
	// The domains guard left out because a plan of theirs is held.
	for _, h := range ev.Held {
		if _, ok := byDomain[h.Domain]; ok {
			continue
		}
		byDomain[h.Domain] = heldResult(h)
		domains = append(domains, h.Domain)
	}
	var completed, failed int
	for _, d := range domains {
		r := byDomain[d]
		ev.Domains = append(ev.Domains, r)
		ev.Totals = ev.Totals.Add(r.Counts)
		switch r.Outcome {
		case events.OutcomeCompleted, events.OutcomeDryRun:
			completed++
		case events.OutcomeFailed:
			failed++
			ev.Reasons = append(ev.Reasons, fmt.Sprintf("domain %q failed: %s", d, r.Reason))
		default:
			ev.Reasons = append(ev.Reasons, fmt.Sprintf("domain %q %s: %s", d, r.Outcome, r.Reason))
		}
	}
	switch {
	case completed == len(domains):
		ev.Outcome = events.OutcomeCompleted
	case completed == 0 && failed == len(domains):
		ev.Outcome = events.OutcomeFailed
	case failed == 0:
		ev.Outcome = events.OutcomeHeld
	default:
		ev.Outcome = events.OutcomePartial
	}
	ev.FinishedAt = s.opt.Now().UTC()
	return ev, nil
}

// heldResult is the outcome of a domain left out of a run because the
// deletion guard holds an earlier run's plan for it: held, nothing read.
func heldResult(h events.HeldDomain) events.DomainResult {
	return events.DomainResult{Domain: h.Domain, Outcome: events.OutcomeHeld, HeldBy: h.RunID,
		Reason: fmt.Sprintf("skipped, not read: the plan of run %s is held by the deletion guard (%s): approve or discard %s first (adsync run approve %s | adsync run discard %s)",
			h.RunID, strings.Join(h.Reasons, "; "), h.RunID, h.RunID, h.RunID)}
}

// DomainResults returns the recorded outcomes of a run's domains.
func (s *Store) DomainResults(ctx context.Context, runID string) ([]events.DomainResult, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT domain, outcome, reason, attempts, entries, skipped, created, updated, deactivated, reactivated,
		unchanged, joined, left_groups, drift, failed, hold, mode FROM run_domains WHERE run_id=? ORDER BY domain`, runID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []events.DomainResult
	for rows.Next() {
		var r events.DomainResult
		var hold string
		if err := rows.Scan(&r.Domain, &r.Outcome, &r.Reason, &r.Attempts, &r.Entries, &r.Skipped, &r.Created, &r.Updated, &r.Deactivated,
			&r.Reactivated, &r.Unchanged, &r.Joined, &r.Left, &r.Drift, &r.Failed, &hold, &r.Mode); err != nil {
			return nil, err
		}
		if hold != "" {
			r.Hold = &events.Hold{}
			if err := json.Unmarshal([]byte(hold), r.Hold); err != nil {
				return nil, err
			}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// MarkRunPublished records that a run's sync.completed was published, and
// drops reports older than the retention.
func (s *Store) MarkRunPublished(ctx context.Context, runID string) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE runs SET published_at=? WHERE run_id=?`, s.stamp(), runID); err != nil {
		return err
	}
	return s.prune(ctx)
}

// prune drops the reports and outcomes of runs finished before the
// retention (never accounts, never held plans).
func (s *Store) prune(ctx context.Context) error {
	cutoff := s.opt.Now().Add(-s.opt.ReportRetention).UTC().Format("2006-01-02T15:04:05.999999999Z07:00")
	return s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		old := `SELECT run_id FROM runs WHERE published_at<>'' AND published_at < ?1
			AND run_id NOT IN (SELECT run_id FROM run_domains WHERE outcome='held')`
		for _, q := range []string{
			`DELETE FROM run_changes WHERE run_id IN (` + old + `)`,
			`DELETE FROM run_report_truncated WHERE run_id IN (` + old + `)`,
			`DELETE FROM run_report_rows WHERE run_id IN (` + old + `)`,
			`DELETE FROM run_domains WHERE run_id IN (` + old + `)`,
			`DELETE FROM applied_batches WHERE run_id IN (` + old + `)`,
			`DELETE FROM runs WHERE run_id IN (` + old + `)`,
		} {
			if _, err := tx.ExecContext(ctx, q, cutoff); err != nil {
				return fmt.Errorf("accounts: prune reports: %w", err)
			}
		}
		return nil
	})
}

// Change is one line of a run's per-account report.
type Change struct {
	Domain     string   `json:"domain"`
	ExternalID string   `json:"external_id"`
	LocalName  string   `json:"local_name"`
	Op         string   `json:"op"`
	Fields     []string `json:"fields"`
	Reason     string   `json:"reason,omitempty"`
	Result     string   `json:"result"`
	Error      string   `json:"error,omitempty"`
	At         string   `json:"at"`
}

// RunReport is what a run did: each domain's outcome and a page of its
// per-account changes.
type RunReport struct {
	Run     *events.Run                 `json:"run,omitempty"`
	Domains []events.DomainResult       `json:"domains"`
	Skipped map[string][]events.Skipped `json:"skipped,omitempty"`
	Changes []Change                    `json:"changes"`
	// Truncated counts the changes not listed because the run reached
	// accounts.report_max_rows (0: the listing is complete); the domains'
	// counts stay exact and failures are always listed.
	Truncated int `json:"truncated"`
	// TruncatedByDomain splits Truncated by domain.
	TruncatedByDomain map[string]int `json:"truncated_by_domain,omitempty"`
	// Next continues the listing of changes (0: no more).
	Next int64 `json:"next"`
}

// Report returns a run's outcomes and up to limit changes after the
// cursor (failures first... in the order they happened).
func (s *Store) Report(ctx context.Context, runID string, after int64, limit int) (*RunReport, error) {
	return s.ReportOf(ctx, runID, after, limit, "")
}

// ReportOf is Report listing only the changes of one kind (op: create,
// update, deactivate, reactivate; "" every kind).
func (s *Store) ReportOf(ctx context.Context, runID string, after int64, limit int, op string) (*RunReport, error) {
	if limit <= 0 || limit > 5000 {
		limit = 1000
	}
	rep := &RunReport{Skipped: map[string][]events.Skipped{}}
	var runRaw string
	if err := s.db.QueryRowContext(ctx, `SELECT run FROM runs WHERE run_id=?`, runID).Scan(&runRaw); err == nil {
		rep.Run = &events.Run{}
		_ = json.Unmarshal([]byte(runRaw), rep.Run)
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	var err error
	if rep.Domains, err = s.DomainResults(ctx, runID); err != nil {
		return nil, err
	}
	if rep.Domains == nil {
		rep.Domains = []events.DomainResult{}
	}
	if rep.TruncatedByDomain, err = s.truncated(ctx, runID); err != nil {
		return nil, err
	}
	for _, n := range rep.TruncatedByDomain {
		rep.Truncated += n
	}
	rows, err := s.db.QueryContext(ctx, `SELECT domain, skipped_sample FROM run_domains WHERE run_id=?`, runID)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var d, raw string
		if err := rows.Scan(&d, &raw); err != nil {
			rows.Close()
			return nil, err
		}
		var sk []events.Skipped
		if json.Unmarshal([]byte(raw), &sk) == nil && len(sk) > 0 {
			rep.Skipped[d] = sk
		}
	}
	rows.Close()
	rows, err = s.db.QueryContext(ctx, `SELECT rowid, domain, external_id, local_name, op, fields, reason, result, error, at FROM run_changes
		WHERE run_id=? AND rowid > ? AND (?4 = '' OR op = ?4) ORDER BY rowid LIMIT ?3`, runID, after, limit, op)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	rep.Changes = []Change{}
	for rows.Next() {
		var c Change
		var fields string
		if err := rows.Scan(&rep.Next, &c.Domain, &c.ExternalID, &c.LocalName, &c.Op, &fields, &c.Reason, &c.Result, &c.Error, &c.At); err != nil {
			return nil, err
		}
		_ = json.Unmarshal([]byte(fields), &c.Fields)
		rep.Changes = append(rep.Changes, c)
	}
	if len(rep.Changes) < limit {
		rep.Next = 0
	}
	return rep, rows.Err()
}

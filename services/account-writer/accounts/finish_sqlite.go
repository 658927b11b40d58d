package accounts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
)

// Domain outcomes kept by the writer besides those of events.
const (
	OutcomeDiscarded = "discarded"
)

// finishDomain acts on diff's word on a domain, all of its batches being
// staged: apply the plan (completed), report it (dry run), keep it (held)
// or drop it (failed).
func (s *Store) finishDomain(ctx context.Context, tx *sql.Tx, c *events.ChangesCompleted) error {
	r := events.DomainResult{Domain: c.Domain, Outcome: c.Outcome, Reason: c.Reason, Attempts: c.Attempts, Entries: c.Entries, Skipped: c.Skipped, Mode: c.Mode}
	// A first sync's pages applied as they arrived count whatever the
	// outcome.
	now, err := s.appliedNow(ctx, tx, c.RunID, c.Domain)
	if err != nil {
		return err
	}
	r.Counts, r.Failed = now.Counts, now.Failed
	switch c.Outcome {
	case events.OutcomeCompleted:
		res, err := s.applyStaged(ctx, tx, c.Run, c.Domain)
		if err != nil {
			return err
		}
		r.Counts, r.Failed = res.Counts.Add(now.Counts), res.Failed+now.Failed
	case events.OutcomeDryRun:
		if err := s.reportStaged(ctx, tx, c.Run, c.Domain, ResultPlanned); err != nil {
			return err
		}
		r.Counts = c.Planned
		r.Counts.Unchanged = 0 // c.Planned.Unchanged is added below, as for every outcome
		r.Hold = c.Hold        // what the deletion guard would have said
	case events.OutcomeHeld:
		if err := s.reportStaged(ctx, tx, c.Run, c.Domain, ResultHeld); err != nil {
			return err
		}
		hold := *c.Hold
		r.Hold = &hold
	default: // failed: nothing of the plan is applied
		if err := s.dropStaged(ctx, tx, c.RunID, c.Domain); err != nil {
			return err
		}
		if n := now.Created + now.Updated + now.Reactivated; n > 0 {
			r.Reason += fmt.Sprintf("; the %d accounts of the pages read before were applied as they were read (a first sync) and stay: the next run creates the rest", n)
		}
	}
	// diff's unchanged, and the creations the writer found in place.
	r.Counts.Unchanged += c.Planned.Unchanged
	drift, err := s.drift(ctx, tx, c.Domain)
	if err != nil {
		return err
	}
	r.Drift = drift
	if err := s.recordResult(ctx, tx, c.RunID, c.Job, r, c.SkippedDNs); err != nil {
		return err
	}
	if c.Watermark != nil && c.Outcome != events.OutcomeDryRun && c.Outcome != events.OutcomeFailed {
		raw, _ := json.Marshal(c.Watermark)
		_, err = tx.ExecContext(ctx, `UPDATE run_domains SET watermark=? WHERE run_id=? AND domain=?`, string(raw), c.RunID, c.Domain)
	}
	return err
}

// Watermark is a domain's next delta start, to save once its plan applied.
type Watermark struct {
	Domain string
	Mark   events.Watermark
}

// UnsavedWatermarks returns the watermarks of a run's applied domains that
// were not saved yet.
func (s *Store) UnsavedWatermarks(ctx context.Context, runID string) ([]Watermark, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT domain, watermark FROM run_domains WHERE run_id=? AND outcome=? AND watermark<>'' AND watermark_saved=0`,
		runID, events.OutcomeCompleted)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Watermark
	for rows.Next() {
		var w Watermark
		var raw string
		if err := rows.Scan(&w.Domain, &raw); err != nil {
			return nil, err
		}
		if json.Unmarshal([]byte(raw), &w.Mark) == nil {
			out = append(out, w)
		}
	}
	return out, rows.Err()
}

// MarkWatermarkSaved records that a domain's watermark was saved.
func (s *Store) MarkWatermarkSaved(ctx context.Context, runID, domain string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE run_domains SET watermark_saved=1 WHERE run_id=? AND domain=?`, runID, domain)
	return err
}

// applyStaged applies every staged batch of a run's domain in order
// (attempts, then pages before removals), then retries the domain's
// earlier failures, all in the caller's transaction.
func (s *Store) applyStaged(ctx context.Context, tx *sql.Tx, run events.Run, domain string) (Applied, error) {
	var res Applied
	ap, err := s.newApplier(ctx, tx, run.RunID)
	if err != nil {
		return res, err
	}
	defer ap.close()
	defer ap.report.close()
	// Within one attempt diff changes an account once. A plan of several
	// attempts can hold an account twice: a batch whose publication was
	// stored although diff never heard so (and took its record back), then
	// the same change from the read that followed. Such an account is
	// applied in order (its newest state wins) but counted and reported once.
	var attempts int
	if err := tx.QueryRowContext(ctx, `SELECT count(DISTINCT attempt) FROM staged WHERE run_id=? AND domain=?`, run.RunID, domain).Scan(&attempts); err != nil {
		return res, err
	}
	var first func(id string) (bool, error)
	var keepRow func(id string) error
	if attempts > 1 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM plan_accounts`); err != nil {
			return res, err
		}
		mark, err := s.db.Stmt(ctx, tx, `INSERT OR IGNORE INTO plan_accounts (domain, external_id) VALUES (?, ?)`)
		if err != nil {
			return res, err
		}
		defer mark.Close()
		row, err := s.db.Stmt(ctx, tx, `UPDATE plan_accounts SET report_rowid=? WHERE domain=? AND external_id=?`)
		if err != nil {
			return res, err
		}
		defer row.Close()
		ap.report.keepRowID = true
		// The report row of an account's first change, for its later ones.
		keepRow = func(id string) error {
			if ap.report.lastRowID == 0 {
				return nil // not listed (the report is bounded)
			}
			_, err := row.ExecContext(ctx, ap.report.lastRowID, domain, id)
			return err
		}
		first = func(id string) (bool, error) {
			r, err := mark.ExecContext(ctx, domain, id)
			if err != nil {
				return false, err
			}
			n, err := r.RowsAffected()
			return n == 1, err
		}
	}
	err = s.eachStaged(ctx, tx, run.RunID, domain, func(id string, b *events.AccountChanges) error {
		var br Applied
		changes := b.Changes
		if first == nil {
			var err error
			if changes, err = ap.createMany(domain, changes, &br); err != nil {
				return err
			}
		}
		if err := ap.preload(domain, changes); err != nil {
			return err
		}
		for _, ch := range changes {
			counts := &br
			isFirst := true
			if first != nil {
				var err error
				if isFirst, err = first(ch.ExternalID); err != nil {
					return err
				}
				if !isFirst {
					counts, ap.report.replace = &Applied{}, true
				}
			}
			failed := ap.report.failed
			ap.report.lastRowID = 0
			err := ap.apply(domain, ch, counts)
			if ap.report.replace {
				ap.report.failed, ap.report.replace = failed, false // counted at its first change
			}
			if err != nil {
				return fmt.Errorf("accounts: apply %s of %s/%s: %w", ch.Op, domain, ch.ExternalID, err)
			}
			if first != nil && isFirst {
				if err := keepRow(ch.ExternalID); err != nil {
					return err
				}
			}
		}
		br.Failed = ap.report.failed
		ap.report.failed = 0
		res = res.add(br)
		return s.markApplied(ctx, tx, id, b, br)
	})
	if err != nil {
		return res, err
	}
	if first != nil {
		ap.report.keepRowID = false
		if _, err := tx.ExecContext(ctx, `DELETE FROM plan_accounts`); err != nil {
			return res, err
		}
	}
	retried, err := s.retryFailures(ctx, tx, ap, domain, run.RunID)
	if err != nil {
		return res, err
	}
	return res.add(retried), ap.report.keep()
}

func (a Applied) add(b Applied) Applied {
	return Applied{Counts: a.Counts.Add(b.Counts), Stale: a.Stale + b.Stale, Failed: a.Failed + b.Failed, KeptInactive: a.KeptInactive + b.KeptInactive}
}

func (s *Store) markApplied(ctx context.Context, tx *sql.Tx, id string, b *events.AccountChanges, r Applied) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM staged WHERE message_id=?`, id); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO applied_batches (message_id, run_id, domain, attempt, created, updated, deactivated, reactivated,
		joined, left_groups, stale, failed, unchanged, applied_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, b.RunID, b.Domain, b.Attempt, r.Created, r.Updated, r.Deactivated, r.Reactivated, r.Joined, r.Left, r.Stale, r.Failed, r.Unchanged, s.stamp())
	return err
}

// retryFailures applies again the domain's changes that failed in earlier
// runs and were not superseded in this one.
func (s *Store) retryFailures(ctx context.Context, tx *sql.Tx, ap *applier, domain, runID string) (Applied, error) {
	var res Applied
	rows, err := tx.QueryContext(ctx, `SELECT change FROM failed_changes WHERE domain=? AND last_run<>? ORDER BY external_id`, domain, runID)
	if err != nil {
		return res, err
	}
	var changes []events.AccountChange
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			rows.Close()
			return res, err
		}
		var ch events.AccountChange
		if json.Unmarshal([]byte(raw), &ch) == nil {
			changes = append(changes, ch)
		}
	}
	rows.Close()
	for _, ch := range changes {
		if err := ap.apply(domain, ch, &res); err != nil {
			return res, err
		}
	}
	res.Failed = ap.report.failed
	ap.report.failed = 0
	return res, nil
}

// eachStaged reads staged batches a group at a time: at most stagedGroup
// batches, and no more once they hold stagedGroupBytes as stored
// (compressed: 1,000 changes of the bench are about 70 KB, so a group
// holds about 8,000 changes whatever the size of the batches). Two groups
// are in memory at once, decoded.
const (
	stagedGroup      = 8
	stagedGroupBytes = 512 << 10
)

// stagedItem is a staged batch as eachStaged hands it on.
type stagedItem struct {
	id      string
	payload []byte
	codec   string
	b       events.AccountChanges
	err     error
}

// eachStaged calls fn with each staged batch of a run's domain in order,
// reading stagedGroup at a time (never the whole plan in memory). The
// next group is read before fn gets the current one, and decoded on a
// goroutine of its own meanwhile: decoding is a tenth of applying a first
// sync, and the other core is idle then (TestStagedBatchesComeInOrder).
func (s *Store) eachStaged(ctx context.Context, tx *sql.Tx, runID, domain string, fn func(id string, b *events.AccountChanges) error) error {
	after := stagedKey{attempt: -1}
	more := true
	read := func() ([]stagedItem, <-chan struct{}, error) {
		items, m, err := s.readStaged(ctx, tx, runID, domain, &after)
		if err != nil {
			return nil, nil, err
		}
		more = m
		decoded := make(chan struct{})
		go func() {
			defer close(decoded)
			for i := range items {
				if err := decodeStaged(items[i].payload, items[i].codec, &items[i].b); err != nil {
					items[i].err = fmt.Errorf("accounts: staged batch %s is unreadable: %w", items[i].id, err)
				}
				items[i].payload = nil
			}
		}()
		return items, decoded, nil
	}
	items, decoded, err := read()
	for err == nil && len(items) > 0 {
		<-decoded
		var next []stagedItem
		var nextDecoded <-chan struct{}
		if more {
			if next, nextDecoded, err = read(); err != nil {
				break
			}
		}
		for i := range items {
			if err = items[i].err; err != nil {
				break
			}
			if err = fn(items[i].id, &items[i].b); err != nil {
				break
			}
		}
		if err != nil && nextDecoded != nil {
			<-nextDecoded
		}
		items, decoded = next, nextDecoded
	}
	return err
}

// stagedKey orders staged batches: attempts, then pages before removals.
type stagedKey struct {
	attempt, seq int
	kind         string
}

// readStaged reads the next staged batches after *after, not decoded —
// at most stagedGroup of them, and no more once they hold s.groupBytes —
// and moves *after past them. more is false when none are left.
func (s *Store) readStaged(ctx context.Context, tx *sql.Tx, runID, domain string, after *stagedKey) (items []stagedItem, more bool, err error) {
	rows, err := tx.QueryContext(ctx, `SELECT message_id, attempt, kind, seq, payload, codec FROM staged WHERE run_id=? AND domain=?
		AND (attempt, kind, seq) > (?, ?, ?) ORDER BY attempt, kind, seq LIMIT ?`, runID, domain, after.attempt, after.kind, after.seq, stagedGroup)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	size := 0
	for rows.Next() {
		var it stagedItem
		if err := rows.Scan(&it.id, &after.attempt, &after.kind, &after.seq, &it.payload, &it.codec); err != nil {
			return nil, false, err
		}
		items = append(items, it)
		if size += len(it.payload); size >= s.groupBytes {
			return items, true, nil
		}
	}
	return items, len(items) == stagedGroup, rows.Err()
}

// reportStaged writes the per-account report of a plan that is not
// applied (dry run, held) without touching any account.
func (s *Store) reportStaged(ctx context.Context, tx *sql.Tx, run events.Run, domain, result string) error {
	rep, err := s.newReporter(ctx, tx, run.RunID)
	if err != nil {
		return err
	}
	defer rep.close()
	err = s.eachStaged(ctx, tx, run.RunID, domain, func(_ string, b *events.AccountChanges) error {
		for _, ch := range b.Changes {
			name := ""
			if ch.Entry != nil {
				name = s.opt.LocalName.Name(domain, ch.Entry.Username)
			} else {
				_ = tx.QueryRowContext(ctx, `SELECT local_name FROM accounts WHERE domain=? AND external_id=?`, domain, ch.ExternalID).Scan(&name)
			}
			if err := rep.add(domain, ch, name, result, ""); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = rep.keep()
	}
	if err != nil || result == ResultHeld {
		return err // a held plan stays staged for approval
	}
	return s.dropStaged(ctx, tx, run.RunID, domain)
}

// dropStaged forgets a run's staged batches for a domain, remembering
// them as handled (a redelivery is not staged again).
func (s *Store) dropStaged(ctx context.Context, tx *sql.Tx, runID, domain string) error {
	if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO applied_batches (message_id, run_id, domain, attempt, created, updated, deactivated,
		reactivated, joined, left_groups, stale, failed, applied_at)
		SELECT message_id, run_id, domain, attempt, 0, 0, 0, 0, 0, 0, 0, 0, ? FROM staged WHERE run_id=? AND domain=?`, s.stamp(), runID, domain); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM staged WHERE run_id=? AND domain=?`, runID, domain)
	return err
}

func (s *Store) drift(ctx context.Context, tx *sql.Tx, domain string) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM accounts INDEXED BY accounts_drift WHERE domain=? AND deactivated_by='local' AND directory_active=1`, domain).Scan(&n)
	return n, err
}

func (s *Store) recordResult(ctx context.Context, tx *sql.Tx, runID, job string, r events.DomainResult, skipped []events.Skipped) error {
	hold := ""
	if r.Hold != nil {
		raw, _ := json.Marshal(r.Hold)
		hold = string(raw)
	}
	if skipped == nil {
		skipped = []events.Skipped{}
	}
	sk, _ := json.Marshal(skipped)
	_, err := tx.ExecContext(ctx, `INSERT INTO run_domains (run_id, domain, job, outcome, reason, attempts, entries, skipped,
		created, updated, deactivated, reactivated, unchanged, joined, left_groups, drift, failed, hold, skipped_sample, mode, finished_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (run_id, domain) DO UPDATE SET outcome=excluded.outcome, reason=excluded.reason, created=excluded.created,
		updated=excluded.updated, deactivated=excluded.deactivated, reactivated=excluded.reactivated, joined=excluded.joined,
		left_groups=excluded.left_groups, drift=excluded.drift, failed=excluded.failed, finished_at=excluded.finished_at`,
		runID, r.Domain, job, r.Outcome, r.Reason, r.Attempts, r.Entries, r.Skipped,
		r.Created, r.Updated, r.Deactivated, r.Reactivated, r.Unchanged, r.Joined, r.Left, r.Drift, r.Failed, hold, string(sk), string(r.Mode), s.stamp())
	if err != nil {
		return fmt.Errorf("accounts: record outcome of %s in %s: %w", r.Domain, runID, err)
	}
	return nil
}

// heldPlanReason begins the reason Decide records for a decided plan, by
// which Decided knows the outcome is a decision's.
const heldPlanReason = "held plan "

// ErrNotHeld is returned when deciding on a plan that is not held.
var ErrNotHeld = errors.New("no held plan")

// Decided returns what deciding d did, if the plan was decided so already
// (nil otherwise): a decision redelivered after its plan was applied or
// dropped, whose plan.applied may not have been published.
func (s *Store) Decided(ctx context.Context, d *events.PlanDecided) (*events.PlanApplied, error) {
	want := events.OutcomeCompleted
	if d.Decision != events.DecisionApprove {
		want = OutcomeDiscarded
	}
	var outcome, reason, at string
	out := &events.PlanApplied{Run: d.Run, Domain: d.Domain, Decision: d.Decision}
	err := s.db.QueryRowContext(ctx, `SELECT outcome, reason, created, updated, deactivated, reactivated, unchanged, joined, left_groups, failed, finished_at
		FROM run_domains WHERE run_id=? AND domain=?`, d.RunID, d.Domain).Scan(&outcome, &reason, &out.Counts.Created, &out.Counts.Updated,
		&out.Counts.Deactivated, &out.Counts.Reactivated, &out.Counts.Unchanged, &out.Counts.Joined, &out.Counts.Left, &out.Failed, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if outcome != want || !strings.HasPrefix(reason, heldPlanReason) {
		return nil, nil
	}
	out.At, _ = time.Parse(time.RFC3339Nano, at)
	return out, nil
}

// Decide applies (approve) or drops (discard) a domain's held plan —
// exactly the plan that was held, not a new read.
func (s *Store) Decide(ctx context.Context, d *events.PlanDecided) (*events.PlanApplied, error) {
	out := &events.PlanApplied{Run: d.Run, Domain: d.Domain, Decision: d.Decision, At: s.opt.Now().UTC()}
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var outcome, job string
		var unchanged int
		err := tx.QueryRowContext(ctx, `SELECT outcome, job, unchanged FROM run_domains WHERE run_id=? AND domain=?`, d.RunID, d.Domain).Scan(&outcome, &job, &unchanged)
		if errors.Is(err, sql.ErrNoRows) || err == nil && outcome != events.OutcomeHeld {
			return fmt.Errorf("run %s, domain %s: %w", d.RunID, d.Domain, ErrNotHeld)
		}
		if err != nil {
			return err
		}
		// What a first sync applied as it read stays counted.
		now, err := s.appliedNow(ctx, tx, d.RunID, d.Domain)
		if err != nil {
			return err
		}
		r := events.DomainResult{Domain: d.Domain, Counts: now.Counts, Failed: now.Failed}
		if d.Decision == events.DecisionApprove {
			// The held rows of the report give way to the applied ones.
			if _, err := tx.ExecContext(ctx, `DELETE FROM run_changes WHERE run_id=? AND domain=? AND result=?`, d.RunID, d.Domain, ResultHeld); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM run_report_truncated WHERE run_id=? AND domain=?`, d.RunID, d.Domain); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM run_report_rows WHERE run_id=?`, d.RunID); err != nil { // counted again
				return err
			}
			res, err := s.applyStaged(ctx, tx, d.Run, d.Domain)
			if err != nil {
				return err
			}
			r.Outcome = events.OutcomeCompleted
			r.Reason = fmt.Sprintf(heldPlanReason+"approved by %s at %s", d.DecidedBy, d.DecidedAt.UTC().Format(time.RFC3339))
			r.Counts, r.Failed = res.Counts.Add(now.Counts), res.Failed+now.Failed
			out.Counts, out.Failed = res.Counts, res.Failed
			unchanged += res.Unchanged
		} else {
			if err := s.dropStaged(ctx, tx, d.RunID, d.Domain); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE run_changes SET result='discarded' WHERE run_id=? AND domain=? AND result=?`, d.RunID, d.Domain, ResultHeld); err != nil {
				return err
			}
			r.Outcome = OutcomeDiscarded
			r.Reason = fmt.Sprintf(heldPlanReason+"discarded by %s at %s", d.DecidedBy, d.DecidedAt.UTC().Format(time.RFC3339))
		}
		r.Unchanged = unchanged
		if r.Drift, err = s.drift(ctx, tx, d.Domain); err != nil {
			return err
		}
		return s.recordResult(ctx, tx, d.RunID, job, r, nil)
	})
	return out, err
}

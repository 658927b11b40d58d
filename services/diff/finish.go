package diff

import (
	"context"
	"fmt"
	"strings"

	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/holds"
	"github.com/adsync/adsync/internal/infra/bus"
)

const (
	endingCompleted = "completed"
	endingFailed    = "failed"
)

// finishIfReady finishes an attempt once both the reader's word on it and
// all of its pages have arrived, whichever came last. It runs inside the
// caller's transaction: its events are published before the commit, and a
// redelivery after a crash republishes them with the same message ids.
func (s *Service) finishIfReady(ctx context.Context, tx *Tx, k Key) error {
	prog, err := tx.Progress(k)
	if err != nil {
		return err
	}
	if prog.Finished || prog.EndingKind == "" || prog.Pages < prog.ExpectedPages {
		return nil
	}
	switch prog.EndingKind {
	case endingCompleted:
		var c events.DirectoryCompleted
		if err := json.Unmarshal(prog.Ending, &c); err != nil {
			return fmt.Errorf("diff state: end of attempt is unreadable: %w", err)
		}
		return s.finishCompleted(ctx, tx, k, prog, &c)
	default:
		var f events.DirectoryFailed
		if err := json.Unmarshal(prog.Ending, &f); err != nil {
			return fmt.Errorf("diff state: end of attempt is unreadable: %w", err)
		}
		return s.finishFailed(ctx, tx, k, prog, &f)
	}
}

// finishCompleted plans the deactivation of the accounts that were present
// before but not seen by this complete, error-free read — out of scope when
// the directory still has them elsewhere, removed otherwise — and applies
// the deletion guard to the domain's whole plan.
func (s *Service) finishCompleted(ctx context.Context, tx *Tx, k Key, prog Progress, c *events.DirectoryCompleted) error {
	version := c.FinishedAt.UnixNano()
	var final Progress
	var out []events.Event
	delta := c.Mode == events.ModeDelta
	// A delta read returns what changed: an absent user is not gone;
	// deletions and departures come in its pages (Gone, OutOfScope).
	// A delta read that listed every user in scope (Swept) finds the
	// gone as a full read does.
	if !delta || c.Swept {
		var err error
		if out, err = s.planGone(ctx, tx, c, version, &final); err != nil {
			return err
		}
	}
	totals, activeBefore, err := tx.RunTotals(c.RunID, c.Domain)
	if err != nil {
		return err
	}
	lastGood, err := tx.LastGood(c.Domain)
	if err != nil {
		return err
	}
	plan := totals.Counts.Add(final.Counts)
	// Accounts an earlier attempt of the run changed are unchanged for
	// this one: count them once, as changed.
	earlier := changed(totals.Counts) - changed(prog.Counts)
	plan.Unchanged = max(0, prog.Counts.Unchanged-earlier)
	// A swept delta read counts every user in scope, as a full read does.
	entries, partial := c.Entries, delta
	if c.Swept {
		entries, partial = c.InScope, false
	}
	hold := check(c.Safety, partial, plan.Deactivated, activeBefore, entries, lastGood)
	done := &events.ChangesCompleted{
		Run: c.Run, Domain: c.Domain, Domains: c.Domains, Attempt: c.Attempt,
		Outcome: events.OutcomeCompleted, Batches: prog.Batches + final.Batches, TotalBatches: totals.Batches + final.Batches,
		Planned: plan, Entries: c.Entries, Skipped: c.Skipped, SkippedDNs: c.SkippedDNs, Attempts: c.Attempt, Hold: hold,
		Mode: c.Mode, Watermark: c.Watermark,
	}
	if done.Mode == "" {
		done.Mode = events.ModeFull
	}
	switch {
	case c.DryRun:
		done.Outcome = events.OutcomeDryRun
	case hold != nil:
		done.Outcome, done.Reason = events.OutcomeHeld, "the deletion guard held the plan: "+joinReasons(hold.Reasons)
	}
	// The held plan is on record before the event that announces it: an
	// administrator (or script) told "held" may approve it at once, and
	// guard refuses the domain's next run from this record.
	if done.Outcome == events.OutcomeHeld {
		if err := s.holds.Put(ctx, holds.Plan{Domain: c.Domain, RunID: c.RunID, Job: c.Job, Hold: *hold, At: s.cfg.Now().UTC()}); err != nil {
			return err
		}
	}
	if err := s.pub.Publish(ctx, append(out, done)...); err != nil {
		return bus.RetryAfter(0, fmt.Errorf("publish the end of %s: %w", c.Domain, err))
	}
	switch done.Outcome {
	case events.OutcomeDryRun:
		err = tx.Undo(c.RunID, c.Domain) // a dry run leaves no trace
	case events.OutcomeCompleted: // a held plan waits, recorded above
		if err = tx.KeepChanges(c.RunID, c.Domain); err == nil && !partial {
			err = tx.SetLastGood(c.Domain, c.RunID, entries)
		}
	}
	if err != nil {
		return err
	}
	final.Finished = true
	if err := tx.AddProgress(k, 0, final); err != nil {
		return err
	}
	return tx.Forget(c.RunID, c.Domain)
}

// planGone plans the deactivation of the accounts present before but not
// seen by the attempt: out of scope when the directory still has them
// elsewhere, removed otherwise. Where it lacks the directory's word on them
// (lookedUp) it asks for it (lookupNeeded) and changes nothing.
func (s *Service) planGone(ctx context.Context, tx *Tx, c *events.DirectoryCompleted, version int64, final *Progress) ([]events.Event, error) {
	known := lookedUp(ctx, c.Domain)
	var unknown []string
	var out []events.Event
	k := Key{RunID: c.RunID, Domain: c.Domain, Attempt: c.Attempt}
	err := tx.Gone(k, c.StartedAt.UnixNano(), s.cfg.BatchSize, func(gone []Seen) error {
		for _, g := range gone {
			if known == nil || !known.asked[g.Entry.ID] {
				unknown = append(unknown, g.Entry.ID)
			}
		}
		if len(unknown) > 0 {
			return nil // looked up first, then planned in the transaction run again
		}
		changes := make([]events.AccountChange, 0, len(gone))
		var missed []string
		for _, g := range gone {
			if known.found.InScope[g.Entry.ID] {
				// In scope, yet not read: it changed while the read went
				// on. Kept as it is; the next run reads it.
				missed = append(missed, g.Entry.ID)
				continue
			}
			reason := events.ReasonDirectoryRemoved
			if _, ok := known.found.DNs[g.Entry.ID]; ok {
				reason = events.ReasonOutOfScope
			}
			changes = append(changes, events.AccountChange{Op: events.OpDeactivate, ExternalID: g.Entry.ID, Reason: reason, Version: version})
			if err := tx.MarkGone(c.RunID, c.Domain, g, g.Raw, version); err != nil {
				return err
			}
		}
		if len(missed) > 0 {
			bus.Logger(ctx).Warn("accounts missing from the read are in scope in the directory (changed during the read?): kept as they are",
				"count", len(missed), "ids", strings.Join(missed[:min(len(missed), 10)], ","))
		}
		if len(changes) == 0 {
			return nil
		}
		final.Counts.Deactivated += len(changes)
		final.Batches++
		out = append(out, &events.AccountChanges{
			Run: c.Run, Domain: c.Domain, Attempt: c.Attempt, Batch: fmt.Sprintf("r%d", final.Batches), Changes: changes,
		})
		return nil
	})
	if err == nil && len(unknown) > 0 {
		err = &lookupNeeded{domain: c.Domain, ids: unknown}
	}
	return out, err
}

// finishFailed ends a domain whose read failed: nothing of the run is
// applied (the writer drops what it staged) and diff's record goes back to
// what it was before the run.
func (s *Service) finishFailed(ctx context.Context, tx *Tx, k Key, prog Progress, f *events.DirectoryFailed) error {
	totals, _, err := tx.RunTotals(f.RunID, f.Domain)
	if err != nil {
		return err
	}
	done := &events.ChangesCompleted{
		Run: f.Run, Domain: f.Domain, Domains: f.Domains, Attempt: f.Attempt,
		Outcome: events.OutcomeFailed, Reason: f.Reason, Batches: prog.Batches, TotalBatches: totals.Batches,
		Planned: totals.Counts, Entries: prog.Entries, Attempts: f.Attempt,
	}
	if err := s.pub.Publish(ctx, done); err != nil {
		return bus.RetryAfter(0, fmt.Errorf("publish failure of %s: %w", f.Domain, err))
	}
	if err := tx.Undo(f.RunID, f.Domain); err != nil {
		return err
	}
	if err := tx.AddProgress(k, 0, Progress{Finished: true}); err != nil {
		return err
	}
	return tx.Forget(f.RunID, f.Domain)
}

func joinReasons(r []string) string {
	out := ""
	for i, s := range r {
		if i > 0 {
			out += "; "
		}
		out += s
	}
	return out
}

func changed(c events.Counts) int { return c.Created + c.Updated + c.Deactivated + c.Reactivated }

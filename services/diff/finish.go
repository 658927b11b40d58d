package diff

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/bus"
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

// finishCompleted deactivates the accounts that were present before but not
// seen by this complete, error-free read.
func (s *Service) finishCompleted(ctx context.Context, tx *Tx, k Key, prog Progress, c *events.DirectoryCompleted) error {
	version := c.FinishedAt.UnixNano()
	var final Progress
	var out []events.Event
	err := tx.Gone(k, c.StartedAt.UnixNano(), s.cfg.BatchSize, func(gone []Seen) error {
		changes := make([]events.AccountChange, 0, len(gone))
		for _, g := range gone {
			changes = append(changes, events.AccountChange{
				Op: events.OpDeactivate, ExternalID: g.Entry.ID, Reason: events.ReasonDirectoryRemoved, Version: version,
			})
			if err := tx.MarkGone(c.Domain, g.Entry.ID, version); err != nil {
				return err
			}
		}
		final.Counts.Deactivated += len(changes)
		final.Batches++
		out = append(out, &events.AccountChanges{
			Run: c.Run, Domain: c.Domain, Attempt: c.Attempt, Batch: fmt.Sprintf("r%d", final.Batches), Changes: changes,
		})
		return nil
	})
	if err != nil {
		return err
	}
	out = append(out, &events.ChangesCompleted{
		Run: c.Run, Domain: c.Domain, Domains: c.Domains, Attempt: c.Attempt,
		Outcome: events.OutcomeCompleted, Batches: prog.Batches + final.Batches,
		Planned: prog.Counts.Add(final.Counts), Entries: c.Entries, Skipped: c.Skipped, Attempts: c.Attempt,
	})
	if err := s.pub.Publish(ctx, out...); err != nil {
		return bus.RetryAfter(0, fmt.Errorf("publish the end of %s: %w", c.Domain, err))
	}
	final.Finished = true
	if err := tx.AddProgress(k, 0, final); err != nil {
		return err
	}
	return tx.Forget(c.RunID, c.Domain)
}

// finishFailed ends a domain whose read failed: nothing is deactivated.
func (s *Service) finishFailed(ctx context.Context, tx *Tx, k Key, prog Progress, f *events.DirectoryFailed) error {
	done := &events.ChangesCompleted{
		Run: f.Run, Domain: f.Domain, Domains: f.Domains, Attempt: f.Attempt,
		Outcome: events.OutcomeFailed, Reason: f.Reason, Batches: prog.Batches,
		Planned: prog.Counts, Entries: prog.Entries, Attempts: f.Attempt,
	}
	if err := s.pub.Publish(ctx, done); err != nil {
		return bus.RetryAfter(0, fmt.Errorf("publish failure of %s: %w", f.Domain, err))
	}
	if err := tx.AddProgress(k, 0, Progress{Finished: true}); err != nil {
		return err
	}
	return tx.Forget(f.RunID, f.Domain)
}

package accounts

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/infra/sqlite"
	"github.com/adsync/adsync/schemas"
)

// Options of the account store.
type Options struct {
	// LocalName is the local-name rule (default user@domain).
	LocalName LocalNamer
	// ReportMaxRows bounds the per-account report of one run; default
	// 100,000 (the counts stay exact beyond it).
	ReportMaxRows int
	// ReportRetention is how long per-account reports and run outcomes are
	// kept; default 90 days.
	ReportRetention time.Duration
	Now             func() time.Time
}

// Store is the SQLite account store. A domain's plan is staged batch by
// batch as diff publishes it, and applied whole, in one transaction, once
// diff says the domain is complete and not held. Accounts are never
// deleted.
type Store struct {
	db  *sqlite.DB
	opt Options
	// groupBytes is eachStaged's stagedGroupBytes (tests set less).
	groupBytes int
	// pages continues SCIM paging where the previous page ended.
	pages pageCache
	// domains lists the domains held, for externalId lookups.
	domains domainList
	// keys stands in for the unique indexes of accounts until they are
	// built; each write transaction holds it.
	keys *uniqueKeys
	// recent holds the outbox rows of the last commits for the relay.
	recent recentFeed
}

// Open opens (and migrates) the account store at path.
func Open(ctx context.Context, path string, opt Options) (*Store, error) {
	if opt.LocalName == "" {
		opt.LocalName = RuleUserAtDomain
	}
	if err := opt.LocalName.Validate(); err != nil {
		return nil, err
	}
	if opt.ReportMaxRows <= 0 {
		opt.ReportMaxRows = 100_000
	}
	if opt.ReportRetention <= 0 {
		opt.ReportRetention = 90 * 24 * time.Hour
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	migrations, err := schemas.Migrations("accounts")
	if err != nil {
		return nil, err
	}
	db, err := sqlite.Open(ctx, path, migrations)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, opt: opt, groupBytes: stagedGroupBytes, keys: newUniqueKeys(false)}
	// A store with accounts and without the deferred indexes has just
	// been migrated (0013 rebuilt memberships, 0014 and 0015 dropped
	// indexes), or stopped during its first run or between its end and
	// the building: build them now. The unique keys of a first sync were
	// held in memory only (uniqueKeys).
	var any int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM accounts LIMIT 1)`).Scan(&any); err != nil {
		db.Close()
		return nil, fmt.Errorf("accounts: open %s: %w", path, err)
	}
	if any > 0 {
		if err := s.BuildDeferredIndexes(ctx); err != nil {
			db.Close()
			return nil, err
		}
		return s, nil
	}
	// An empty store: built if a run without accounts ended.
	var unique int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type='index' AND name IN ('accounts_id', 'accounts_local_name')`).Scan(&unique); err != nil {
		db.Close()
		return nil, fmt.Errorf("accounts: open %s: %w", path, err)
	}
	s.keys.built = unique == len(uniqueIndexes)
	return s, nil
}

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

// storedTime is how the store writes times: RFC 3339 in UTC with nine
// fractional digits, a fixed width that sorts as text (migration 0012).
const storedTime = "2006-01-02T15:04:05.000000000Z"

func (s *Store) stamp() string { return s.opt.Now().UTC().Format(storedTime) }

// inTx runs fn in one transaction, committed when fn returns nil. fn gets
// a context without cancellation, for every statement of the transaction:
// with a cancellable context the SQLite driver runs each statement on a
// goroutine of its own (to interrupt it), which made applying a plan of
// 100,000 accounts take half again as long. The transaction as a whole
// still ends with the handler.
func (s *Store) inTx(ctx context.Context, fn func(context.Context, *sql.Tx) error) (err error) {
	ctx = context.WithoutCancel(ctx)
	s.keys.begin()
	committed := false
	defer func() { s.txEnded(committed) }()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("accounts: begin: %w", err)
	}
	if err := fn(ctx, tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := s.db.Commit(ctx, tx); err != nil {
		return fmt.Errorf("accounts: commit: %w", err)
	}
	committed = true
	return nil
}

// inPageTx is inTx for a transaction that receives a batch: its
// statements change at most a chunk of rows each, so their journals stay
// in memory (sqlite.DB.InTxJournalInMemory).
func (s *Store) inPageTx(ctx context.Context, fn func(context.Context, *sql.Tx) error) error {
	ctx = context.WithoutCancel(ctx)
	s.keys.begin()
	committed, err := s.db.InTxJournalInMemory(ctx, func(tx *sql.Tx) error { return fn(ctx, tx) })
	s.txEnded(committed)
	return err
}

// txEnded ends what a write transaction's begin (uniqueKeys.begin) opened:
// the feed rows it noted are held and its keys join the set if it
// committed, and the domains held are read again.
func (s *Store) txEnded(committed bool) {
	s.recent.end(committed)
	s.keys.end(committed)
	if committed {
		s.domains.forget()
	}
}

// Stage keeps a batch of a run's domain until the domain's plan is
// complete (once per message id); a page of a domain's first sync is
// applied at once instead (appliesNow). If diff's word on the domain came
// first and this was the last batch it waited for, the domain is finished
// now; done reports that, and for a batch staged before, whether its
// domain is finished.
func (s *Store) Stage(ctx context.Context, messageID string, b *events.AccountChanges) (done bool, err error) {
	kind, seq := batchOrder(b.Batch)
	now := appliesNow(b)
	var payload []byte
	if !now { // encoded outside the transaction
		if payload, err = encodeStaged(b); err != nil {
			return false, err
		}
	}
	err = s.inPageTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM staged WHERE message_id=?1) + (SELECT count(*) FROM applied_batches WHERE message_id=?1)`, messageID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			// Redelivered. The delivery that staged it may have finished
			// the domain and then failed to end the run (sync.completed
			// not published): done says the domain is finished, so that
			// the run's end is tried again.
			var finished int
			err := tx.QueryRowContext(ctx, `SELECT count(*) FROM run_domains WHERE run_id=? AND domain=?`, b.RunID, b.Domain).Scan(&finished)
			done = finished > 0
			return err
		}
		// A page of a domain's first sync is applied now, and kept
		// whatever the run's outcome.
		if now {
			if err := s.applyBatch(ctx, tx, messageID, b); err != nil {
				return err
			}
			done, err = s.finishIfReady(ctx, tx, b.RunID, b.Domain)
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO staged (message_id, run_id, domain, attempt, kind, seq, payload, codec) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			messageID, b.RunID, b.Domain, b.Attempt, kind, seq, payload, codecS2JSON); err != nil {
			return fmt.Errorf("accounts: stage batch %s: %w", b.Batch, err)
		}
		// A batch of a domain whose plan was applied already (a replay
		// after the de-duplication window) is applied on its own, under
		// the version guard: an older state never wins.
		var outcome string
		err := tx.QueryRowContext(ctx, `SELECT outcome FROM run_domains WHERE run_id=? AND domain=?`, b.RunID, b.Domain).Scan(&outcome)
		if err == nil {
			switch outcome {
			case events.OutcomeCompleted:
				err = s.applyBatch(ctx, tx, messageID, b)
			case events.OutcomeHeld:
				err = nil // part of the held plan, awaiting a decision
			default: // failed, dry run, discarded: nothing of it is applied
				err = s.dropStaged(ctx, tx, b.RunID, b.Domain)
			}
			return err
		}
		if err != sql.ErrNoRows {
			return err
		}
		done, err = s.finishIfReady(ctx, tx, b.RunID, b.Domain)
		return err
	})
	return done, err
}

// batchOrder splits "p12" into ("p", 12): pages first, then removals.
func batchOrder(batch string) (string, int) {
	if batch == "" {
		return "", 0
	}
	n, _ := strconv.Atoi(batch[1:])
	return batch[:1], n
}

// Expect records diff's word that a domain of a run is done after
// c.TotalBatches batches. The domain is finished at once if they are all
// here, otherwise when the last one arrives (Stage). It reports whether the
// domain is finished.
func (s *Store) Expect(ctx context.Context, c *events.ChangesCompleted) (done bool, err error) {
	err = s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		// Finished before (a redelivery, or a replay after the
		// de-duplication window): nothing to do again.
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM run_domains WHERE run_id=? AND domain=?`, c.RunID, c.Domain).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			done = true
			return nil
		}
		run, _ := json.Marshal(c.Run)
		domains, _ := json.Marshal(c.Domains)
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO runs (run_id, run, domains, created_at) VALUES (?, ?, ?, ?)`,
			c.RunID, string(run), string(domains), s.stamp()); err != nil {
			return fmt.Errorf("accounts: record run %s: %w", c.RunID, err)
		}
		ending, _ := json.Marshal(c)
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO pending_domains (run_id, domain, batches, ending) VALUES (?, ?, ?, ?)`,
			c.RunID, c.Domain, c.TotalBatches, string(ending)); err != nil {
			return err
		}
		done, err = s.finishIfReady(ctx, tx, c.RunID, c.Domain)
		return err
	})
	return done, err
}

// finishIfReady finishes a domain whose end is known and whose batches are
// all here.
func (s *Store) finishIfReady(ctx context.Context, tx *sql.Tx, runID, domain string) (bool, error) {
	var want int
	var ending string
	err := tx.QueryRowContext(ctx, `SELECT batches, ending FROM pending_domains WHERE run_id=? AND domain=?`, runID, domain).Scan(&want, &ending)
	if err == sql.ErrNoRows {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var have int
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM staged WHERE run_id=?1 AND domain=?2) + (SELECT count(*) FROM applied_batches WHERE run_id=?1 AND domain=?2)`,
		runID, domain).Scan(&have); err != nil {
		return false, err
	}
	if have < want {
		return false, nil
	}
	var c events.ChangesCompleted
	if err := json.Unmarshal([]byte(ending), &c); err != nil {
		return false, fmt.Errorf("accounts: end of %s in %s is unreadable: %w", domain, runID, err)
	}
	if err := s.finishDomain(ctx, tx, &c); err != nil {
		return false, err
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM pending_domains WHERE run_id=? AND domain=?`, runID, domain)
	return true, err
}

// applyBatch applies one batch on its own, in the caller's transaction: a
// page of a domain's first sync as it arrives (appliesNow), or a batch
// that arrived after its domain's plan was applied, under the version
// guard. Its new accounts go in a chunk at a time (createMany). A
// deactivation is never applied here — it was not part of a plan the
// deletion guard checked — and is reported as ignored (a page with one is
// never applied as it arrives). The batch is recorded as applied, with its
// counts.
func (s *Store) applyBatch(ctx context.Context, tx *sql.Tx, messageID string, b *events.AccountChanges) error {
	ap, err := s.newApplier(ctx, tx, b.RunID)
	if err != nil {
		return err
	}
	defer ap.close()
	defer ap.report.close()
	var res Applied
	changes, err := ap.createMany(b.Domain, b.Changes, &res)
	if err != nil {
		return err
	}
	if err := ap.preload(b.Domain, changes); err != nil {
		return err
	}
	for _, ch := range changes {
		if ch.Op == events.OpDeactivate {
			if err := ap.report.add(b.Domain, ch, "", ResultIgnored, "arrived after the domain's plan was applied: a deactivation outside the plan the deletion guard checked"); err != nil {
				return err
			}
			continue
		}
		if err := ap.apply(b.Domain, ch, &res); err != nil {
			return fmt.Errorf("accounts: apply %s of %s/%s: %w", ch.Op, b.Domain, ch.ExternalID, err)
		}
	}
	res.Failed = ap.report.failed
	if err := ap.report.keep(); err != nil {
		return err
	}
	return s.markApplied(ctx, tx, messageID, b, res)
}

package diff

import (
	"fmt"
	"hash/maphash"
	"sync"

	"github.com/adsync/adsync/internal/hashset"
	"github.com/adsync/adsync/internal/infra/sqlite"
)

// A first sync's new entries are staged: appended to staged_entries (a
// rowid table, so a page writes a few pages at its end) and moved into
// entries in id order when the attempt ends, or as soon as anything reads
// the domain's entries (ready). Inserting random ids into entries as they
// came dirtied about one page of that index per entry once it outgrew the
// cache (schemas/migrations/diff/0006_staged_entries.sql).
//
// Pages of the attempt still have to know which of their ids an earlier
// page recorded (an id twice in a read). The State keeps those ids, as
// 64-bit hashes, for one staging at a time: a page whose ids all miss
// stages its new entries; a hit (a repeated id, or a collision) settles
// the staging first and the page goes the usual way. After a restart the
// hashes are gone: the staging is settled at the next page.

// maxStagedIDs bounds the hashes held (8 bytes each): past it
// the staging is settled and the attempt goes on the usual way.
var maxStagedIDs = 2_000_000 // a variable for tests

// stagedIDs are the ids one staging recorded. mu is held by the
// transaction that stages into it, from Stage to its end.
type stagedIDs struct {
	mu      sync.Mutex
	id      int64 // staging.id
	key     Key
	seed    maphash.Seed
	ids     hashset.Set
	pending []uint64 // staged by the open transaction
}

func (s *stagedIDs) hash(id string) uint64 { return maphash.String(s.seed, id) }

// staging is the State's one staging in memory (nil: none).
type staging struct {
	mu  sync.Mutex
	cur *stagedIDs
}

func (s *staging) get() *stagedIDs {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

func (s *staging) set(old, cur *stagedIDs) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == old {
		s.cur = cur
	}
}

var insertStaged = sqlite.RowsInsert{Shared: 1, Per: 6,
	Head: `INSERT INTO staged_entries (stage, external_id, hash, doc, active, present, observed_at) VALUES `,
	Row:  `(?1,$0,$1,$2,$3,$4,$5)`}

// Stage says whether this transaction stages the new entries of k, a first
// sync's attempt: it does if it staged them so far, or if the domain has
// no entries and nothing else is staged. Call it before anything reads the
// domain's entries for the page.
func (t *Tx) Stage(k Key) (bool, error) {
	cur := t.staging.get()
	if cur != nil && cur.key == k {
		cur.mu.Lock()
		kept, err := t.staged(cur.id)
		if err == nil && kept && cur.ids.Len() < maxStagedIDs {
			t.stage = cur
			return true, nil
		}
		cur.mu.Unlock()
		if err != nil {
			return false, fmt.Errorf("diff state: read staging of %s: %w", k.Domain, err)
		}
		t.staging.set(cur, nil)
		return false, t.ready(k.Domain) // settled elsewhere, or full
	}
	if err := t.ready(k.Domain); err != nil { // leftovers: another attempt's, or from before a restart
		return false, err
	}
	if cur != nil {
		kept, err := t.staged(cur.id)
		if err != nil {
			return false, fmt.Errorf("diff state: read staging: %w", err)
		}
		if kept {
			return false, nil // another domain's first sync stages
		}
		t.staging.set(cur, nil)
	}
	var some int
	if err := t.tx.QueryRowContext(t.ctx, `SELECT count(*) FROM (SELECT 1 FROM entries WHERE domain=? LIMIT 1)`, k.Domain).Scan(&some); err != nil {
		return false, fmt.Errorf("diff state: read entries of %s: %w", k.Domain, err)
	}
	if some > 0 || maxStagedIDs == 0 {
		return false, nil // a later attempt: the first one's entries are recorded
	}
	res, err := t.tx.ExecContext(t.ctx, `INSERT INTO staging (run_id, domain, attempt) VALUES (?, ?, ?)`, k.RunID, k.Domain, k.Attempt)
	if err != nil {
		return false, fmt.Errorf("diff state: stage %s: %w", k.Domain, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return false, err
	}
	s := &stagedIDs{id: id, key: k, seed: maphash.MakeSeed()}
	s.mu.Lock()
	t.staging.set(nil, s)
	t.stage = s
	return true, nil
}

// staged says whether a staging is still kept (not settled).
func (t *Tx) staged(id int64) (bool, error) {
	var n int
	err := t.tx.QueryRowContext(t.ctx, `SELECT count(*) FROM staging WHERE id=?`, id).Scan(&n)
	return n == 1, err
}

// stagedHit says whether an earlier page of the staging recorded one of
// ids (or one that hashes the same).
func (t *Tx) stagedHit(ids []string) bool {
	for _, id := range ids {
		if t.stage.ids.Has(t.stage.hash(id)) {
			return true
		}
	}
	return false
}

// ready writes the transaction's new entries, and settles what is staged
// for the domain: call it before reading the domain's entries.
func (t *Tx) ready(domain string) error {
	if err := t.saveCreated(); err != nil {
		return err
	}
	rows, err := t.tx.QueryContext(t.ctx, `SELECT id FROM staging WHERE domain=?`, domain)
	if err != nil {
		return fmt.Errorf("diff state: read staging of %s: %w", domain, err)
	}
	var stages []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		stages = append(stages, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(stages) == 0 {
		return err
	}
	for _, id := range stages {
		if err := t.settle(id); err != nil {
			return fmt.Errorf("diff state: record the staged entries of %s: %w", domain, err)
		}
	}
	return nil
}

// settle moves a staging's entries into entries, sorted by id (an id twice
// in it: the later one wins, as in a page), and forgets the staging.
func (t *Tx) settle(id int64) error {
	if t.stage != nil && t.stage.id == id {
		t.leaveStage()
	}
	if cur := t.staging.get(); cur != nil && cur.id == id {
		t.staging.set(cur, nil)
	}
	for _, q := range []string{
		`INSERT INTO entries (domain, external_id, hash, doc, active, present, observed_at, created_run)
			SELECT s.domain, e.external_id, e.hash, e.doc, e.active, e.present, e.observed_at, s.run_id
			FROM staged_entries e JOIN staging s ON s.id=e.stage WHERE e.stage=?1 ORDER BY e.external_id, e.rowid
			ON CONFLICT (domain, external_id) DO UPDATE SET hash=excluded.hash, doc=excluded.doc,
				active=excluded.active, present=excluded.present, observed_at=excluded.observed_at`,
		`DELETE FROM staged_entries WHERE stage=?1`,
		`DELETE FROM staging WHERE id=?1`,
	} {
		if _, err := t.tx.ExecContext(t.ctx, q, id); err != nil {
			return err
		}
	}
	return nil
}

// leaveStage ends staging in this transaction (its hashes are dropped:
// the staging is being settled).
func (t *Tx) leaveStage() {
	s := t.stage
	t.stage = nil
	s.pending = s.pending[:0]
	t.staging.set(s, nil)
	s.mu.Unlock()
}

// endStage keeps the ids the transaction staged once it committed, and
// lets the next transaction stage.
func (t *Tx) endStage(committed bool) {
	s := t.stage
	if s == nil {
		return
	}
	t.stage = nil
	if committed {
		s.ids.Add(s.pending)
	}
	s.pending = s.pending[:0]
	s.mu.Unlock()
}

// saveStaged appends the transaction's new entries to the staging.
func (t *Tx) saveStaged(first int64) error {
	rows := make([][]any, len(t.created))
	for i, e := range t.created {
		if e.domain != t.stage.key.Domain || e.runID != t.stage.key.RunID {
			return fmt.Errorf("diff state: entry %s/%s of run %s in the staging of %s/%s", e.domain, e.s.Entry.ID, e.runID, t.stage.key.Domain, t.stage.key.RunID)
		}
		doc := first + int64(i)
		rows[i] = []any{e.s.Entry.ID, e.s.Hash, doc, e.s.Active, e.s.Present, e.s.ObservedAt}
		t.stage.pending = append(t.stage.pending, t.stage.hash(e.s.Entry.ID))
	}
	if _, err := t.inserts.Insert(&insertStaged, []any{t.stage.id}, rows); err != nil {
		return fmt.Errorf("diff state: stage %d new entries: %w", len(t.created), err)
	}
	return nil
}

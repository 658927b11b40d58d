package diff

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/infra/sqlite"
	"github.com/adsync/adsync/schemas"
)

// State is diff's own SQLite record of what it last saw in each directory,
// and of the progress of each attempt. Every change to it happens in one
// transaction through InTx.
type State struct {
	db  *sqlite.DB
	now func() time.Time
	// staging: the first sync whose new entries are staged (staged_sqlite.go).
	staging staging
}

// OpenState opens (and migrates) the state database at path.
func OpenState(ctx context.Context, path string, now func() time.Time) (*State, error) {
	migrations, err := schemas.Migrations("diff")
	if err != nil {
		return nil, err
	}
	db, err := sqlite.Open(ctx, path, migrations)
	if err != nil {
		return nil, err
	}
	return &State{db: db, now: now}, nil
}

// Close closes the database.
func (s *State) Close() error { return s.db.Close() }

// Tx is a transaction on the state.
type Tx struct {
	db   *sqlite.DB
	tx   *sql.Tx
	ctx  context.Context
	now  func() time.Time
	get  *sql.Stmt
	put  *sql.Stmt
	undo *sql.Stmt
	// changed, recorded and markSeen serve a page (LookupChanged,
	// Recorded, MarkSeenMany).
	changed  *sql.Stmt
	recorded *sql.Stmt
	markSeen *sql.Stmt
	// created are the entries Put records for the first time, written
	// together (created_sqlite.go) by inserts.
	created []newEntry
	inserts *sqlite.Inserts
	// putDoc rewrites a document (putKnown); nextDoc is the next free
	// document id, 0 until read (docIDs).
	putDoc  *sql.Stmt
	putHash *sql.Stmt
	nextDoc int64
	// newDocs are the document ids handed out to entries recorded for the
	// first time since the last MarkSeenMany; lookedUp lists (comma
	// separated) those of the entries LookupChanged found recorded since
	// then. MarkSeenMany marks both seen.
	newDocs  []int64
	lookedUp []byte
	// stage is the staging this transaction writes new entries to (nil:
	// none, they go to entries), of staging.
	staging *staging
	stage   *stagedIDs
}

// InTx runs fn in one transaction, committed when fn returns nil.
func (s *State) InTx(ctx context.Context, fn func(*Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("diff state: begin: %w", err)
	}
	// Statements run without cancellation: with a cancellable context the
	// SQLite driver starts a goroutine per statement, the transaction as a
	// whole still ends with the handler.
	t := &Tx{db: s.db, tx: tx, ctx: context.WithoutCancel(ctx), now: s.now, staging: &s.staging}
	t.inserts = s.db.NewInserts(t.ctx, tx)
	defer t.close()
	if err := fn(t); err != nil {
		_ = tx.Rollback()
		t.endStage(false)
		return err
	}
	if err := t.saveCreated(); err != nil {
		_ = tx.Rollback()
		t.endStage(false)
		return err
	}
	if err := s.db.Commit(ctx, tx); err != nil {
		t.endStage(false)
		return fmt.Errorf("diff state: commit: %w", err)
	}
	t.endStage(true)
	return nil
}

func (t *Tx) close() {
	t.endStage(false) // a panic: the next transaction may stage again
	for _, st := range []*sql.Stmt{t.get, t.put, t.putDoc, t.putHash, t.undo, t.changed, t.recorded, t.markSeen} {
		if st != nil {
			st.Close()
		}
	}
	t.inserts.Close()
}

func (t *Tx) prepare(dst **sql.Stmt, q string) (*sql.Stmt, error) {
	if *dst == nil {
		st, err := t.db.Stmt(t.ctx, t.tx, q)
		if err != nil {
			return nil, err
		}
		*dst = st
	}
	return *dst, nil
}

// Key names one attempt of one domain in one run.
type Key struct {
	RunID   string
	Domain  string
	Attempt int
}

// PageDone reports whether a page was already processed.
func (t *Tx) PageDone(k Key, seq int) (bool, error) {
	var n int
	err := t.tx.QueryRowContext(t.ctx, `SELECT count(*) FROM pages WHERE run_id=? AND domain=? AND attempt=? AND seq=?`, k.RunID, k.Domain, k.Attempt, seq).Scan(&n)
	return n > 0, err
}

// Lookup returns what was last seen of an entry (nil if never), with the
// stored entry still encoded: it is decoded only when something changed.
func (t *Tx) Lookup(domain, id string) (s *Seen, raw []byte, err error) {
	if err := t.ready(domain); err != nil {
		return nil, nil, err
	}
	st, err := t.prepare(&t.get, `SELECT e.hash, d.entry, e.active, e.present, e.observed_at FROM entries e JOIN entry_docs d ON d.id=e.doc
		WHERE e.domain=? AND e.external_id=?`)
	if err != nil {
		return nil, nil, err
	}
	var v Seen
	err = st.QueryRowContext(t.ctx, domain, id).Scan(&v.Hash, &raw, &v.Active, &v.Present, &v.ObservedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("diff state: get %s/%s: %w", domain, id, err)
	}
	return &v, raw, nil
}

// lookupHashHex is the length of an entry hash in hex (Hash: 16 bytes).
const lookupHashHex = 32

// LookupChanged returns what diff recorded of the page's entries whose
// recorded hash is not the given one (or that were recorded gone), keyed by
// id; an id with no record maps to nil. Entries recorded with the same hash
// are left out: they are unchanged, and SQLite compares them without
// handing them to Go. hashes[i] is the hash of ids[i].
//
// The document ids of every entry found recorded (changed or not) come
// back in the same query, as one extra row, and wait in the transaction
// for MarkSeenMany: a page's entries are probed once, not twice.
func (t *Tx) LookupChanged(domain string, ids []string, hashes [][]byte) (map[string]*Seen, map[string][]byte, error) {
	seen := map[string]*Seen{}
	raws := map[string][]byte{}
	if len(ids) == 0 {
		return seen, raws, t.saveCreated()
	}
	if err := t.ready(domain); err != nil {
		return nil, nil, err
	}
	// One string per entry: its hash in hex (lookupHashHex characters),
	// then its id. SQLite takes them apart with substr, which costs far
	// less than extracting two fields of a JSON pair (->>), about 0.5 µs
	// each.
	keys := make([]string, len(ids))
	for i, id := range ids {
		if len(hashes[i]) != lookupHashHex/2 {
			return nil, nil, fmt.Errorf("diff state: hash of %s has %d bytes, want %d", id, len(hashes[i]), lookupHashHex/2)
		}
		keys[i] = hex.EncodeToString(hashes[i]) + id
	}
	arg, err := json.Marshal(keys)
	if err != nil {
		return nil, nil, err
	}
	// j, the page joined with what is recorded, is materialized once and
	// read twice: for the entries that differ (one row each, id not null)
	// and for the documents of all those recorded (one row, id null).
	st, err := t.prepare(&t.changed, `WITH j AS MATERIALIZED (
			SELECT p.id, p.hash AS want, e.external_id IS NOT NULL AS found, e.hash, e.doc, e.active, e.present, e.observed_at
			FROM (SELECT substr(value, `+strconv.Itoa(lookupHashHex+1)+`) AS id, unhex(substr(value, 1, `+strconv.Itoa(lookupHashHex)+`)) AS hash
				FROM json_each(?2)) p
			LEFT JOIN entries e ON e.domain=?1 AND e.external_id=p.id)
		SELECT j.id, j.found, j.hash, d.entry, j.active, j.present, j.observed_at, NULL FROM j
			LEFT JOIN entry_docs d ON d.id=j.doc
			WHERE NOT j.found OR j.present=0 OR j.hash<>j.want
		UNION ALL
		SELECT NULL, 0, NULL, NULL, NULL, NULL, NULL, group_concat(j.doc) FROM j WHERE j.found`)
	if err != nil {
		return nil, nil, err
	}
	rows, err := st.QueryContext(t.ctx, domain, string(arg))
	if err != nil {
		return nil, nil, fmt.Errorf("diff state: look up a page: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, docs sql.NullString
		var found bool
		var v Seen
		var raw []byte
		var active, present sql.NullBool
		var observed sql.NullInt64
		if err := rows.Scan(&id, &found, &v.Hash, &raw, &active, &present, &observed, &docs); err != nil {
			return nil, nil, err
		}
		if !id.Valid {
			t.lookedUp = appendDocs(t.lookedUp, docs.String)
			continue
		}
		if !found {
			seen[id.String] = nil
			continue
		}
		v.Active, v.Present, v.ObservedAt = active.Bool, present.Bool, observed.Int64
		seen[id.String], raws[id.String] = &v, raw
	}
	return seen, raws, rows.Err()
}

// Recorded returns the places in ids of those diff has a record of (an
// entry, present or gone), in order. A first sync's pages are mostly new
// entries: this asks SQLite for the few it knows, and LookupChanged only
// for those.
func (t *Tx) Recorded(domain string, ids []string) ([]int, error) {
	if len(ids) == 0 {
		return nil, t.saveCreated()
	}
	if t.stage != nil && t.stage.key.Domain == domain && !t.stagedHit(ids) {
		// Staging (a first sync), and no earlier page of it had these:
		// the domain has no other entries.
		return nil, t.saveCreated()
	}
	if err := t.ready(domain); err != nil {
		return nil, err
	}
	arg, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	// CROSS JOIN: the ids drive the join.
	st, err := t.prepare(&t.recorded, `SELECT p.key FROM json_each(?2) p CROSS JOIN entries e ON e.domain=?1 AND e.external_id=p.value ORDER BY p.key`)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(t.ctx, domain, string(arg))
	if err != nil {
		return nil, fmt.Errorf("diff state: look up a page's recorded entries: %w", err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var i int
		if err := rows.Scan(&i); err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// MarkSeenMany notes in one row what an attempt saw on page seq: the
// document ids of these entries, which diff had a record of (kept ones
// included: an id diff has no record of cannot be gone), of the entries
// LookupChanged found recorded, and of the entries this transaction
// recorded for the first time (the last two known already: no need to
// look them up).
func (t *Tx) MarkSeenMany(k Key, seq int, ids []string) error {
	if err := t.saveCreated(); err != nil { // new entries have their documents
		return err
	}
	docs := t.lookedUp
	t.lookedUp = nil
	if len(ids) > 0 {
		if err := t.ready(k.Domain); err != nil {
			return err
		}
		arg, err := json.Marshal(ids)
		if err != nil {
			return err
		}
		// CROSS JOIN: the ids drive the join (by default SQLite may scan
		// entries once per id).
		var found sql.NullString
		if err := t.tx.QueryRowContext(t.ctx, `SELECT group_concat(e.doc) FROM json_each(?2) p CROSS JOIN entries e ON e.domain=?1 AND e.external_id=p.value`,
			k.Domain, string(arg)).Scan(&found); err != nil {
			return fmt.Errorf("diff state: mark page %d seen: %w", seq, err)
		}
		docs = appendDocs(docs, found.String)
	}
	for _, d := range t.newDocs {
		if len(docs) > 0 {
			docs = append(docs, ',')
		}
		docs = strconv.AppendInt(docs, d, 10)
	}
	t.newDocs = t.newDocs[:0]
	if len(docs) == 0 {
		return nil
	}
	st, err := t.prepare(&t.markSeen, `INSERT OR REPLACE INTO seen_pages (run_id, domain, attempt, seq, docs) VALUES (?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	if _, err := st.ExecContext(t.ctx, k.RunID, k.Domain, k.Attempt, seq, string(docs)); err != nil {
		return fmt.Errorf("diff state: mark page %d seen: %w", seq, err)
	}
	return nil
}

// appendDocs appends a comma-separated list of document ids to another.
func appendDocs(list []byte, docs string) []byte {
	if docs == "" {
		return list
	}
	if len(list) > 0 {
		list = append(list, ',')
	}
	return append(list, docs...)
}

// seenDocs returns what an attempt saw as a bitmap of document ids: byte
// d-1 is 1 if document d was seen (SQLite tests it with substr), one byte
// for every id handed out so far (1 MB for a million).
func (t *Tx) seenDocs(k Key) ([]byte, error) {
	var next int64
	if err := t.tx.QueryRowContext(t.ctx, `SELECT next FROM doc_ids`).Scan(&next); err != nil {
		return nil, fmt.Errorf("diff state: next document id: %w", err)
	}
	rows, err := t.tx.QueryContext(t.ctx, `SELECT docs FROM seen_pages WHERE run_id=? AND domain=? AND attempt=? AND docs IS NOT NULL`,
		k.RunID, k.Domain, k.Attempt)
	if err != nil {
		return nil, fmt.Errorf("diff state: read seen pages: %w", err)
	}
	defer rows.Close()
	seen := make([]byte, max(next-1, 1))
	for rows.Next() {
		var docs sql.RawBytes
		if err := rows.Scan(&docs); err != nil {
			return nil, err
		}
		for f := range bytes.SplitSeq(docs, []byte{','}) {
			d, err := strconv.ParseInt(string(f), 10, 64)
			if err != nil || d < 1 || d >= next {
				return nil, fmt.Errorf("diff state: seen pages of %s/%s attempt %d are corrupt: document id %q (ids are below %d)",
					k.RunID, k.Domain, k.Attempt, f, next)
			}
			seen[d-1] = 1
		}
	}
	return seen, rows.Err()
}

// Put records an entry as seen (raw is its JSON form, from Hash). prev is
// what was recorded before (nil: nothing), kept once per run so that the
// run's changes can be undone.
func (t *Tx) Put(runID, domain string, s Seen, raw []byte, prev *Seen, prevRaw []byte) error {
	if prev == nil {
		// A first sync records every entry: new ones are written together,
		// with their undo records, before anything reads entries again
		// (saveCreated).
		t.created = append(t.created, newEntry{runID: runID, domain: domain, s: s, raw: raw})
		return nil
	}
	if err := t.saveUndo(runID, domain, s.Entry.ID, prev, prevRaw); err != nil {
		return err
	}
	known, err := t.putKnown(domain, s, raw)
	if err != nil || known {
		return err
	}
	return t.putNew(domain, s, raw, "")
}

// Progress is an attempt's progress and planned counts.
type Progress struct {
	Pages    int
	Entries  int
	Batches  int
	Counts   events.Counts
	Finished bool
	// EndingKind is "completed" or "failed" once the reader's word on the
	// attempt arrived (Ending holds the event), with the number of pages
	// it published.
	EndingKind    string
	Ending        []byte
	ExpectedPages int
}

// Progress returns an attempt's progress (zero if nothing was recorded).
func (t *Tx) Progress(k Key) (Progress, error) {
	var p Progress
	var kind sql.NullString
	var expected sql.NullInt64
	err := t.tx.QueryRowContext(t.ctx, `SELECT pages, entries, batches, created, updated, deactivated, reactivated, unchanged,
		joined, left_groups, finished, ending_kind, ending, expected_pages
		FROM attempts WHERE run_id=? AND domain=? AND attempt=?`, k.RunID, k.Domain, k.Attempt).
		Scan(&p.Pages, &p.Entries, &p.Batches, &p.Counts.Created, &p.Counts.Updated, &p.Counts.Deactivated, &p.Counts.Reactivated,
			&p.Counts.Unchanged, &p.Counts.Joined, &p.Counts.Left, &p.Finished, &kind, &p.Ending, &expected)
	if errors.Is(err, sql.ErrNoRows) {
		return Progress{}, nil
	}
	p.EndingKind, p.ExpectedPages = kind.String, int(expected.Int64)
	return p, err
}

// SetEnding records the reader's word on an attempt: how it ended and how
// many pages it published.
func (t *Tx) SetEnding(k Key, kind string, ending []byte, pages int) error {
	if err := t.AddProgress(k, 0, Progress{}); err != nil { // make sure the row exists
		return err
	}
	_, err := t.tx.ExecContext(t.ctx, `UPDATE attempts SET ending_kind=?, ending=?, expected_pages=? WHERE run_id=? AND domain=? AND attempt=?`,
		kind, ending, pages, k.RunID, k.Domain, k.Attempt)
	if err != nil {
		return fmt.Errorf("diff state: record end of attempt: %w", err)
	}
	return nil
}

// AddProgress adds to an attempt's progress; page > 0 also records that
// page as processed.
func (t *Tx) AddProgress(k Key, page int, d Progress) error {
	if err := t.saveCreated(); err != nil { // an attempt's first row counts entries
		return err
	}
	if page > 0 {
		if _, err := t.tx.ExecContext(t.ctx, `INSERT INTO pages (run_id, domain, attempt, seq) VALUES (?, ?, ?, ?)`, k.RunID, k.Domain, k.Attempt, page); err != nil {
			return fmt.Errorf("diff state: record page %d: %w", page, err)
		}
		d.Pages = 1
	}
	// The attempt's row is created once, with the domain's active accounts
	// counted then (one count per attempt, not per page).
	res, err := t.tx.ExecContext(t.ctx, `UPDATE attempts SET
		pages=pages+?4, entries=entries+?5, batches=batches+?6, created=created+?7, updated=updated+?8, deactivated=deactivated+?9,
		reactivated=reactivated+?10, unchanged=unchanged+?11, joined=joined+?12, left_groups=left_groups+?13, finished=max(finished, ?14)
		WHERE run_id=?1 AND domain=?2 AND attempt=?3`,
		k.RunID, k.Domain, k.Attempt, d.Pages, d.Entries, d.Batches, d.Counts.Created, d.Counts.Updated, d.Counts.Deactivated,
		d.Counts.Reactivated, d.Counts.Unchanged, d.Counts.Joined, d.Counts.Left, d.Finished)
	if err == nil {
		if n, _ := res.RowsAffected(); n == 0 {
			if err := t.ready(k.Domain); err != nil {
				return err
			}
			_, err = t.tx.ExecContext(t.ctx, `INSERT INTO attempts (run_id, domain, attempt, pages, entries, batches, created, updated, deactivated, reactivated, unchanged,
				joined, left_groups, finished, started_at, active_before)
			VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,
				(SELECT count(*) FROM entries WHERE domain=?2 AND present=1 AND active=1))`,
				k.RunID, k.Domain, k.Attempt, d.Pages, d.Entries, d.Batches, d.Counts.Created, d.Counts.Updated, d.Counts.Deactivated,
				d.Counts.Reactivated, d.Counts.Unchanged, d.Counts.Joined, d.Counts.Left, d.Finished, t.now().UTC().Format(time.RFC3339Nano))
		}
	}
	if err != nil {
		return fmt.Errorf("diff state: record progress: %w", err)
	}
	return nil
}

// Gone calls fn, in batches of at most n, with the entries of a domain that
// are present but were not seen by the attempt and were observed before
// `before` (ns) — an entry first observed by a newer, concurrent read is not
// gone. fn may mark entries gone.
func (t *Tx) Gone(k Key, before int64, n int, fn func([]Seen) error) error {
	if err := t.ready(k.Domain); err != nil {
		return err
	}
	seen, err := t.seenDocs(k)
	if err != nil {
		return err
	}
	after := ""
	for {
		// One pass over the domain's entries in id order; SQLite looks
		// each document id up in the bitmap of what the attempt saw.
		rows, err := t.tx.QueryContext(t.ctx, `SELECT e.external_id, e.hash, d.entry, e.active, e.observed_at FROM entries e JOIN entry_docs d ON d.id=e.doc
			WHERE e.domain=?1 AND e.present=1 AND e.observed_at < ?2 AND e.external_id > ?3 AND substr(?4, e.doc, 1) IS NOT x'01'
			ORDER BY e.external_id LIMIT ?5`, k.Domain, before, after, seen, n)
		if err != nil {
			return fmt.Errorf("diff state: find gone entries: %w", err)
		}
		var batch []Seen
		for rows.Next() {
			var s Seen
			var id string
			var raw []byte
			if err := rows.Scan(&id, &s.Hash, &raw, &s.Active, &s.ObservedAt); err != nil {
				rows.Close()
				return err
			}
			if err := json.Unmarshal(raw, &s.Entry); err != nil {
				rows.Close()
				return fmt.Errorf("diff state: entry %s is corrupt: %w", id, err)
			}
			s.Entry.ID = id
			s.Present = true
			s.Raw = raw
			batch = append(batch, s)
			after = id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		if err := fn(batch); err != nil {
			return err
		}
		if len(batch) < n {
			return nil
		}
	}
}

// MarkGone records that an entry is gone from the directory (its account
// is deactivated).
func (t *Tx) MarkGone(runID, domain string, g Seen, raw []byte, observedAt int64) error {
	if err := t.saveUndo(runID, domain, g.Entry.ID, &g, raw); err != nil {
		return err
	}
	_, err := t.tx.ExecContext(t.ctx, `UPDATE entries SET present=0, active=0, observed_at=max(observed_at, ?) WHERE domain=? AND external_id=?`, observedAt, domain, g.Entry.ID)
	return err
}

// saveUndo keeps the state an existing entry had before the run changed it
// (the first one of the run), with the run that created the entry. A new
// entry needs none: it carries the run that created it (created_run).
func (t *Tx) saveUndo(runID, domain, id string, prev *Seen, prevRaw []byte) error {
	if err := t.ready(domain); err != nil { // its created_run is read below
		return err
	}
	st, err := t.prepare(&t.undo, `INSERT OR IGNORE INTO undo (run_id, domain, external_id, existed, hash, entry, active, present, observed_at, created_run)
		VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6, ?7, ?8, coalesce((SELECT created_run FROM entries WHERE domain=?2 AND external_id=?3), ''))`)
	if err != nil {
		return err
	}
	if _, err := st.ExecContext(t.ctx, runID, domain, id, prev.Hash, prevRaw, prev.Active, prev.Present, prev.ObservedAt); err != nil {
		return fmt.Errorf("diff state: keep undo of %s: %w", id, err)
	}
	return nil
}

// Undo puts back every entry a run changed in a domain, as it was before.
func (t *Tx) Undo(runID, domain string) error {
	if err := t.ready(domain); err != nil {
		return err
	}
	if err := t.restoreMissing(runID, domain); err != nil {
		return fmt.Errorf("diff state: undo run %s in %s: %w", runID, domain, err)
	}
	stmts := []string{
		// Entries the run changed get their state and document back, in
		// place.
		`UPDATE entry_docs SET entry=u.entry FROM undo u JOIN entries e ON e.domain=u.domain AND e.external_id=u.external_id
			WHERE u.run_id=?1 AND u.domain=?2 AND u.existed=1 AND entry_docs.id=e.doc`,
		`UPDATE entries SET hash=u.hash, active=u.active, present=u.present, observed_at=u.observed_at FROM undo u
			WHERE u.run_id=?1 AND u.domain=?2 AND u.existed=1 AND entries.domain=u.domain AND entries.external_id=u.external_id`,
		// Entries it created go, their documents with them (a trigger),
		// even if a later attempt of the run changed them (above): known
		// by created_run, or by an undo record from before that column.
		`DELETE FROM entries WHERE domain=?2 AND created_run=?1`,
		`DELETE FROM entries WHERE domain=?2 AND external_id IN (SELECT external_id FROM undo WHERE run_id=?1 AND domain=?2 AND existed=0)`,
		`DELETE FROM undo WHERE run_id=?1 AND domain=?2`,
	}
	for _, q := range stmts {
		if _, err := t.tx.ExecContext(t.ctx, q, runID, domain); err != nil {
			return fmt.Errorf("diff state: undo run %s in %s: %w", runID, domain, err)
		}
	}
	return nil
}

// KeepChanges drops a run's undo records: its plan was applied.
func (t *Tx) KeepChanges(runID, domain string) error {
	if err := t.saveCreated(); err != nil {
		return err
	}
	_, err := t.tx.ExecContext(t.ctx, `DELETE FROM undo WHERE run_id=? AND domain=?`, runID, domain)
	return err
}

// LastGood returns the result count of the domain's last applied run.
func (t *Tx) LastGood(domain string) (int, error) {
	var n int
	err := t.tx.QueryRowContext(t.ctx, `SELECT last_good_entries FROM domains WHERE domain=?`, domain).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return n, err
}

// SetLastGood records the result count of an applied run.
func (t *Tx) SetLastGood(domain, runID string, entries int) error {
	_, err := t.tx.ExecContext(t.ctx, `INSERT INTO domains (domain, last_good_entries, last_good_run) VALUES (?, ?, ?)
		ON CONFLICT (domain) DO UPDATE SET last_good_entries=excluded.last_good_entries, last_good_run=excluded.last_good_run`, domain, entries, runID)
	return err
}

// RunTotals sums the progress of every attempt of a run in a domain: the
// planned counts and batches, and the active accounts before the run.
func (t *Tx) RunTotals(runID, domain string) (Progress, int, error) {
	var p Progress
	var before int
	err := t.tx.QueryRowContext(t.ctx, `SELECT coalesce(sum(batches),0), coalesce(sum(created),0), coalesce(sum(updated),0),
		coalesce(sum(deactivated),0), coalesce(sum(reactivated),0), coalesce(sum(joined),0), coalesce(sum(left_groups),0),
		coalesce((SELECT active_before FROM attempts WHERE run_id=?1 AND domain=?2 ORDER BY attempt LIMIT 1), 0)
		FROM attempts WHERE run_id=?1 AND domain=?2`, runID, domain).
		Scan(&p.Batches, &p.Counts.Created, &p.Counts.Updated, &p.Counts.Deactivated, &p.Counts.Reactivated, &p.Counts.Joined, &p.Counts.Left, &before)
	return p, before, err
}

// DomainFinished reports whether an attempt of a run's domain finished it
// (completed, held, dry run or failed for good): the run's other attempts
// (a read redelivered while the first one still ran) have nothing more to
// say.
func (t *Tx) DomainFinished(runID, domain string) (bool, error) {
	var n int
	err := t.tx.QueryRowContext(t.ctx, `SELECT count(*) FROM attempts WHERE run_id=? AND domain=? AND finished=1`, runID, domain).Scan(&n)
	return n > 0, err
}

// ApplyNow says whether the run's page batches for the domain are applied
// as they arrive: decided at its first call for the run and domain (before
// the first page records anything), as allowed and a first sync — diff
// has no record of the domain and no last good run, so that the deletion
// guard cannot hold the plan — and the same for every later call.
func (t *Tx) ApplyNow(runID, domain string, allowed bool) (bool, error) {
	var apply bool
	err := t.tx.QueryRowContext(t.ctx, `SELECT apply FROM apply_now WHERE run_id=? AND domain=?`, runID, domain).Scan(&apply)
	if err == nil || !errors.Is(err, sql.ErrNoRows) {
		return apply, err
	}
	if err := t.ready(domain); err != nil { // entries of the domain are counted below
		return false, err
	}
	if _, err := t.tx.ExecContext(t.ctx, `INSERT OR IGNORE INTO apply_now (run_id, domain, apply)
		SELECT ?1, ?2, ?3 AND NOT EXISTS (SELECT 1 FROM entries WHERE domain=?2)
			AND coalesce((SELECT last_good_entries FROM domains WHERE domain=?2), 0) = 0`, runID, domain, allowed); err != nil {
		return false, fmt.Errorf("diff state: decide whether %s applies as it reads: %w", domain, err)
	}
	err = t.tx.QueryRowContext(t.ctx, `SELECT apply FROM apply_now WHERE run_id=? AND domain=?`, runID, domain).Scan(&apply)
	return apply, err
}

// Forget drops the bookkeeping of every attempt of a run's domain.
func (t *Tx) Forget(runID, domain string) error {
	for _, q := range []string{`DELETE FROM seen_pages WHERE run_id=? AND domain=?`, `DELETE FROM pages WHERE run_id=? AND domain=?`,
		`DELETE FROM apply_now WHERE run_id=? AND domain=?`} {
		if _, err := t.tx.ExecContext(t.ctx, q, runID, domain); err != nil {
			return fmt.Errorf("diff state: forget run %s: %w", runID, err)
		}
	}
	return nil
}

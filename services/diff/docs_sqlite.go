package diff

import (
	"database/sql"
	"fmt"
)

// An entry's last-seen document lives in entry_docs, apart from its hash
// and state (schemas/migrations/diff/0002_entry_docs.sql): documents are
// appended with ids diff hands out itself, so that one statement can write
// many entries that point to them. Triggers drop a document when its entry
// is deleted or points to another one.

// docIDs reserves n consecutive document ids and returns the first. Ids
// are never handed out twice, not even those of deleted documents: an
// attempt's seen pages name entries by document id (MarkSeenMany). The
// transaction is the store's only writer, so the next id is read once.
func (t *Tx) docIDs(n int) (int64, error) {
	if t.nextDoc == 0 {
		if err := t.tx.QueryRowContext(t.ctx, `SELECT max((SELECT next FROM doc_ids), (SELECT coalesce(max(id), 0) + 1 FROM entry_docs))`).Scan(&t.nextDoc); err != nil {
			return 0, fmt.Errorf("diff state: next document id: %w", err)
		}
	}
	first := t.nextDoc
	t.nextDoc += int64(n)
	if _, err := t.tx.ExecContext(t.ctx, `UPDATE doc_ids SET next=?`, t.nextDoc); err != nil {
		return 0, fmt.Errorf("diff state: reserve document ids: %w", err)
	}
	return first, nil
}

// putNew records an entry (missing although expected) with a new
// document; createdRun is the run that created it, if it is not kept yet.
func (t *Tx) putNew(domain string, s Seen, raw []byte, createdRun string) error {
	id, err := t.docIDs(1)
	if err != nil {
		return err
	}
	if _, err := t.inserts.Insert(&insertDocs, nil, [][]any{{id, raw}}); err != nil {
		return fmt.Errorf("diff state: put %s/%s: %w", domain, s.Entry.ID, err)
	}
	if _, err := t.inserts.Insert(&insertEntries, nil, [][]any{{domain, s.Entry.ID, s.Hash, id, s.Active, s.Present, s.ObservedAt, createdRun}}); err != nil {
		return fmt.Errorf("diff state: put %s/%s: %w", domain, s.Entry.ID, err)
	}
	t.newDocs = append(t.newDocs, id)
	return nil
}

// putKnown records a new state of an entry that exists, its document
// rewritten in place; it reports false if the entry does not exist.
func (t *Tx) putKnown(domain string, s Seen, raw []byte) (bool, error) {
	st, err := t.prepare(&t.put, `UPDATE entries SET hash=?3, active=?4, present=?5, observed_at=?6 WHERE domain=?1 AND external_id=?2`)
	if err != nil {
		return false, err
	}
	res, err := st.ExecContext(t.ctx, domain, s.Entry.ID, s.Hash, s.Active, s.Present, s.ObservedAt)
	if err != nil {
		return false, fmt.Errorf("diff state: put %s/%s: %w", domain, s.Entry.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	st, err = t.prepare(&t.putDoc, `UPDATE entry_docs SET entry=?3 WHERE id=(SELECT doc FROM entries WHERE domain=?1 AND external_id=?2)`)
	if err != nil {
		return false, err
	}
	if _, err := st.ExecContext(t.ctx, domain, s.Entry.ID, raw); err != nil {
		return false, fmt.Errorf("diff state: put %s/%s: %w", domain, s.Entry.ID, err)
	}
	return true, nil
}

// PutHash records another hash of an entry whose fields are unchanged:
// one of the current format where an older version recorded another.
func (t *Tx) PutHash(domain, id string, hash []byte) error {
	st, err := t.prepare(&t.putHash, `UPDATE entries SET hash=?3 WHERE domain=?1 AND external_id=?2`)
	if err != nil {
		return err
	}
	if _, err := st.ExecContext(t.ctx, domain, id, hash); err != nil {
		return fmt.Errorf("diff state: record the hash of %s/%s: %w", domain, id, err)
	}
	return nil
}

// restoreMissing records again, with new documents, the entries a run's
// undo records say existed before it but that are missing now (none
// expected: a run deletes only entries it created).
func (t *Tx) restoreMissing(runID, domain string) error {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT u.external_id, u.hash, u.entry, u.active, u.present, u.observed_at, u.created_run FROM undo u
		WHERE u.run_id=?1 AND u.domain=?2 AND u.existed=1
		AND NOT EXISTS (SELECT 1 FROM entries e WHERE e.domain=u.domain AND e.external_id=u.external_id)`, runID, domain)
	if err != nil {
		return err
	}
	type missing struct {
		s       Seen
		raw     []byte
		created string
	}
	var all []missing
	for rows.Next() {
		var m missing
		var active, present sql.NullBool
		var observed sql.NullInt64
		if err := rows.Scan(&m.s.Entry.ID, &m.s.Hash, &m.raw, &active, &present, &observed, &m.created); err != nil {
			rows.Close()
			return err
		}
		m.s.Active, m.s.Present, m.s.ObservedAt = active.Bool, present.Bool, observed.Int64
		all = append(all, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, m := range all {
		if err := t.putNew(domain, m.s, m.raw, m.created); err != nil {
			return err
		}
	}
	return nil
}

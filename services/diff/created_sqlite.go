package diff

import (
	"database/sql"
	"fmt"

	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/internal/sqlite"
)

// newEntry is an entry Put records for the first time, not written yet.
type newEntry struct {
	runID, domain string
	s             Seen
	raw           []byte
}

// createdChunk is how many new entries one statement writes.
const createdChunk = 64

// saveCreated writes the entries Put recorded for the first time in this
// transaction, createdChunk to a statement, then their undo records
// (existed=0: undone by deleting them), one statement per run and domain.
// It runs before anything reads entries or undo records, and before the
// commit. A first sync is all new entries: one statement each took a
// fifth of diff's time per entry.
func (t *Tx) saveCreated() error {
	if len(t.created) == 0 {
		return nil
	}
	for start := 0; start < len(t.created); start += createdChunk {
		chunk := t.created[start:min(start+createdChunk, len(t.created))]
		st, err := t.createdStatement(len(chunk))
		if err != nil {
			return err
		}
		args := make([]any, 0, 7*len(chunk))
		for _, e := range chunk {
			args = append(args, e.domain, e.s.Entry.ID, e.s.Hash, e.raw, e.s.Active, e.s.Present, e.s.ObservedAt)
		}
		if _, err := st.ExecContext(t.ctx, args...); err != nil {
			return fmt.Errorf("diff state: put %d new entries: %w", len(chunk), err)
		}
	}
	for len(t.created) > 0 {
		first := t.created[0]
		n := 1
		for n < len(t.created) && t.created[n].runID == first.runID && t.created[n].domain == first.domain {
			n++
		}
		ids := make([]string, n)
		for i, e := range t.created[:n] {
			ids[i] = e.s.Entry.ID
		}
		arg, err := json.Marshal(ids)
		if err != nil {
			return err
		}
		if _, err := t.tx.ExecContext(t.ctx, `INSERT OR IGNORE INTO undo (run_id, domain, external_id, existed) SELECT ?1, ?2, value, 0 FROM json_each(?3)`,
			first.runID, first.domain, string(arg)); err != nil {
			return fmt.Errorf("diff state: keep undo of %d new entries: %w", n, err)
		}
		t.created = t.created[n:]
	}
	return nil
}

// createdStatement returns the statement that writes n new entries, as
// Put writes one (rows of one statement are written in order: an entry
// twice in a page ends as its last state).
func (t *Tx) createdStatement(n int) (*sql.Stmt, error) {
	if st, ok := t.createds[n]; ok {
		return st, nil
	}
	q := `INSERT INTO entries (domain, external_id, hash, entry, active, present, observed_at) VALUES ` +
		sqlite.Rows(`($0,$1,$2,$3,$4,$5,$6)`, 0, 7, n) +
		` ON CONFLICT (domain, external_id) DO UPDATE SET hash=excluded.hash, entry=excluded.entry,
		active=excluded.active, present=excluded.present, observed_at=excluded.observed_at`
	st, err := t.tx.PrepareContext(t.ctx, q)
	if err != nil {
		return nil, err
	}
	if t.createds == nil {
		t.createds = map[int]*sql.Stmt{}
	}
	t.createds[n] = st
	return st, nil
}

package diff

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/testenv/older"
)

// TestEntryDocumentsFollowTheirEntries walks entries through what runs do
// to them — recorded new (one twice in a page), changed, found gone, put
// back by an undo (new ones removed, changed ones restored, one missing
// recorded again), forgotten by another undo — and checks after each step
// that every entry has exactly its own document, holding its last state,
// and that no document is left without an entry.
func TestEntryDocumentsFollowTheirEntries(t *testing.T) {
	ctx := context.Background()
	st := openState(t, "")
	seen := func(id, mail string, present bool, at int64) (Seen, []byte) {
		e := events.DirectoryEntry{ID: id, Username: id, Email: mail}
		hash, raw := Hash(e)
		return Seen{Entry: e, Hash: hash, Active: present, Present: present, ObservedAt: at}, raw
	}
	putNew := func(tx *Tx, run, id, mail string) error {
		s, raw := seen(id, mail, true, 1)
		return tx.Put(run, "corp", s, raw, nil, nil)
	}
	change := func(tx *Tx, run, id, mail string) error {
		prev, prevRaw, err := tx.Lookup("corp", id)
		if err != nil {
			return err
		}
		s, raw := seen(id, mail, true, 2)
		return tx.Put(run, "corp", s, raw, prev, prevRaw)
	}
	// check: the entries and the mail of each one's document.
	check := func(t *testing.T, want map[string]string) {
		t.Helper()
		must(t, st.InTx(ctx, func(tx *Tx) error {
			var entries, docs, orphans, shared int
			if err := tx.tx.QueryRow(`SELECT (SELECT count(*) FROM entries), (SELECT count(*) FROM entry_docs),
				(SELECT count(*) FROM entry_docs WHERE id NOT IN (SELECT doc FROM entries)),
				(SELECT count(*) - count(DISTINCT doc) FROM entries)`).Scan(&entries, &docs, &orphans, &shared); err != nil {
				return err
			}
			if entries != len(want) || docs != len(want) || orphans != 0 || shared != 0 {
				t.Errorf("%d entries, %d documents (%d without an entry, %d shared), want %d of each", entries, docs, orphans, shared, len(want))
			}
			for id, mail := range want {
				s, raw, err := tx.Lookup("corp", id)
				if err != nil {
					return err
				}
				if s == nil {
					t.Errorf("entry %s is missing", id)
					continue
				}
				if _, wantRaw := seen(id, mail, true, 0); string(raw) != string(wantRaw) {
					t.Errorf("document of %s = %s, want %s", id, raw, wantRaw)
				}
			}
			return nil
		}))
	}

	must(t, st.InTx(ctx, func(tx *Tx) error {
		for _, id := range []string{"a", "b", "c"} {
			if err := putNew(tx, "r1", id, id+"@old"); err != nil {
				return err
			}
		}
		return putNew(tx, "r1", "a", "a@twice") // twice in a page: the last state wins
	}))
	check(t, map[string]string{"a": "a@twice", "b": "b@old", "c": "c@old"})

	must(t, st.InTx(ctx, func(tx *Tx) error {
		if err := change(tx, "r2", "b", "b@new"); err != nil {
			return err
		}
		c, raw, err := tx.Lookup("corp", "c")
		if err != nil {
			return err
		}
		c.Entry.ID = "c"
		if err := tx.MarkGone("r2", "corp", *c, raw, 3); err != nil {
			return err
		}
		return putNew(tx, "r2", "d", "d@new")
	}))
	check(t, map[string]string{"a": "a@twice", "b": "b@new", "c": "c@old", "d": "d@new"})

	// r2 is undone: d goes, b and c are as before r2; a, which r2 did not
	// touch, stays. c was also deleted behind diff's back: it is recorded
	// again from its undo record.
	must(t, st.InTx(ctx, func(tx *Tx) error {
		_, err := tx.tx.Exec(`DELETE FROM entries WHERE domain='corp' AND external_id='c'`)
		return err
	}))
	must(t, st.InTx(ctx, func(tx *Tx) error { return tx.Undo("r2", "corp") }))
	check(t, map[string]string{"a": "a@twice", "b": "b@old", "c": "c@old"})
	must(t, st.InTx(ctx, func(tx *Tx) error {
		c, _, err := tx.Lookup("corp", "c")
		if err == nil && (c == nil || !c.Present || c.ObservedAt != 1) {
			t.Errorf("c after the undo = %+v, want present as first observed", c)
		}
		return err
	}))

	// r1 is undone: everything it recorded goes.
	must(t, st.InTx(ctx, func(tx *Tx) error { return tx.Undo("r1", "corp") }))
	check(t, map[string]string{})
}

// TestEntriesOfAnOlderVersionKeepTheirDocuments: a diff.db written before
// documents moved to entry_docs (migration 0002) is migrated with every
// entry, its hash, state and document; entries recorded afterwards get
// documents of their own.
func TestEntriesOfAnOlderVersionKeepTheirDocuments(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "diff.db")
	old := older.Store(t, path, "diff", "0002")
	want := map[string]Seen{}
	raws := map[string][]byte{}
	for i, id := range []string{"zeta", "alpha", "ümlaut", "mid"} {
		e := events.DirectoryEntry{ID: id, Username: id, Email: id + "@example.org"}
		hash, raw := Hash(e)
		s := Seen{Entry: e, Hash: hash, Active: i%2 == 0, Present: i != 3, ObservedAt: int64(100 + i)}
		if _, err := old.ExecContext(ctx, `INSERT INTO entries (domain, external_id, hash, entry, active, present, observed_at) VALUES ('corp', ?, ?, ?, ?, ?, ?)`,
			id, hash, raw, s.Active, s.Present, s.ObservedAt); err != nil {
			t.Fatal(err)
		}
		want[id], raws[id] = s, raw
	}
	must(t, old.Close())

	st := openState(t, path)
	must(t, st.InTx(ctx, func(tx *Tx) error {
		for id, w := range want {
			got, raw, err := tx.Lookup("corp", id)
			if err != nil {
				return err
			}
			if got == nil || string(got.Hash) != string(w.Hash) || got.Active != w.Active || got.Present != w.Present ||
				got.ObservedAt != w.ObservedAt || string(raw) != string(raws[id]) {
				t.Errorf("%s after the migration = %+v %s, want %+v %s", id, got, raw, w, raws[id])
			}
		}
		return putNew(tx, "r1", "new")
	}))
	must(t, st.InTx(ctx, func(tx *Tx) error {
		var entries, docs int
		if err := tx.tx.QueryRow(`SELECT (SELECT count(DISTINCT doc) FROM entries), (SELECT count(*) FROM entry_docs)`).Scan(&entries, &docs); err != nil {
			return err
		}
		if entries != 5 || docs != 5 {
			t.Errorf("%d distinct documents of entries, %d documents; want 5 and 5", entries, docs)
		}
		return nil
	}))
}

// TestUndoRemovesWhatTheRunCreated: undoing a run removes the entries it
// created — also one a later attempt of the run changed again, and one
// recorded before created_run existed (an undo record says so) — and puts
// back those it changed.
func TestUndoRemovesWhatTheRunCreated(t *testing.T) {
	ctx := context.Background()
	st := openState(t, "")
	put := func(tx *Tx, run, id, mail string, at int64) error {
		prev, prevRaw, err := tx.Lookup("corp", id)
		if err != nil {
			return err
		}
		e := events.DirectoryEntry{ID: id, Username: id, Email: mail}
		hash, raw := Hash(e)
		return tx.Put(run, "corp", Seen{Entry: e, Hash: hash, Active: true, Present: true, ObservedAt: at}, raw, prev, prevRaw)
	}
	must(t, st.InTx(ctx, func(tx *Tx) error { return put(tx, "r0", "kept", "kept@r0", 1) }))
	must(t, st.InTx(ctx, func(tx *Tx) error { return tx.KeepChanges("r0", "corp") }))
	// An entry of an older version: created_run '', an undo record of r9.
	must(t, st.InTx(ctx, func(tx *Tx) error {
		if err := put(tx, "r8", "legacy", "legacy@r9", 1); err != nil {
			return err
		}
		for _, q := range []string{`UPDATE entries SET created_run='' WHERE external_id='legacy'`,
			`INSERT INTO undo (run_id, domain, external_id, existed) VALUES ('r9', 'corp', 'legacy', 0)`} {
			if _, err := tx.tx.Exec(q); err != nil {
				return err
			}
		}
		return nil
	}))
	// r1: creates "new" (first attempt), changes it and "kept" (second).
	must(t, st.InTx(ctx, func(tx *Tx) error { return put(tx, "r1", "new", "new@1", 2) }))
	must(t, st.InTx(ctx, func(tx *Tx) error {
		if err := put(tx, "r1", "new", "new@2", 3); err != nil {
			return err
		}
		return put(tx, "r1", "kept", "kept@r1", 3)
	}))
	must(t, st.InTx(ctx, func(tx *Tx) error {
		if err := tx.Undo("r1", "corp"); err != nil {
			return err
		}
		return tx.Undo("r9", "corp")
	}))
	must(t, st.InTx(ctx, func(tx *Tx) error {
		for id, want := range map[string]string{"new": "", "legacy": "", "kept": "kept@r0"} {
			s, raw, err := tx.Lookup("corp", id)
			if err != nil {
				return err
			}
			got := ""
			if s != nil {
				var e events.DirectoryEntry
				if err := json.Unmarshal(raw, &e); err != nil {
					return err
				}
				got = e.Email
			}
			if got != want {
				t.Errorf("%s after the undos: %q, want %q (\"\": no entry)", id, got, want)
			}
		}
		return nil
	}))
}

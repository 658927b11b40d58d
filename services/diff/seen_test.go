package diff

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/testenv/older"
)

// TestGoneIsWhatTheAttemptDidNotSee: entries e1…e6 are recorded; an
// attempt sees some of them page by page. Gone must list exactly the
// others, whether diff kept running, restarted during or after the read,
// was handed a page twice, or had a page's transaction rolled back (its
// ids were not seen); after Forget, nothing is seen.
func TestGoneIsWhatTheAttemptDidNotSee(t *testing.T) {
	ctx := context.Background()
	k := Key{RunID: "r1", Domain: "corp", Attempt: 1}
	all := []string{"e1", "e2", "e3", "e4", "e5", "e6"}
	// open opens the state; the caller closes it (a restart closes one
	// and opens the next).
	open := func(t *testing.T, path string) *State {
		st, err := OpenState(ctx, path, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	record := func(t *testing.T, st *State) {
		must(t, st.InTx(ctx, func(tx *Tx) error {
			for _, id := range all {
				if err := putNew(tx, "r0", id); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	mark := func(t *testing.T, st *State, seq int, ids ...string) {
		must(t, st.InTx(ctx, func(tx *Tx) error { return tx.MarkSeenMany(k, seq, ids) }))
	}
	for _, tt := range []struct {
		name string
		read func(t *testing.T, st *State, path string) *State
		want []string
	}{
		{"one run of diff", func(t *testing.T, st *State, _ string) *State {
			mark(t, st, 1, "e1", "e2")
			mark(t, st, 2, "e3")
			mark(t, st, 3, "e4")
			return st
		}, []string{"e5", "e6"}},
		{"diff restarted during the read", func(t *testing.T, st *State, path string) *State {
			mark(t, st, 1, "e1", "e2")
			mark(t, st, 2, "e3")
			must(t, st.Close())
			st = open(t, path)
			mark(t, st, 3, "e4")
			return st
		}, []string{"e5", "e6"}},
		{"diff restarted after the read", func(t *testing.T, st *State, path string) *State {
			mark(t, st, 1, "e1", "e2", "e6")
			must(t, st.Close())
			return open(t, path)
		}, []string{"e3", "e4", "e5"}},
		{"a page marked twice", func(t *testing.T, st *State, _ string) *State {
			mark(t, st, 1, "e1", "e2")
			mark(t, st, 1, "e1", "e2")
			mark(t, st, 2, "e2", "e3") // an id on two pages
			return st
		}, []string{"e4", "e5", "e6"}},
		{"another attempt's pages do not count", func(t *testing.T, st *State, _ string) *State {
			mark(t, st, 1, "e1", "e2")
			other := Key{RunID: k.RunID, Domain: k.Domain, Attempt: 2}
			must(t, st.InTx(ctx, func(tx *Tx) error { return tx.MarkSeenMany(other, 1, []string{"e3"}) }))
			return st
		}, []string{"e3", "e4", "e5", "e6"}},
		{"a page's transaction rolled back", func(t *testing.T, st *State, _ string) *State {
			mark(t, st, 1, "e1", "e2")
			failed := errors.New("handler failed")
			if err := st.InTx(ctx, func(tx *Tx) error {
				if err := tx.MarkSeenMany(k, 2, []string{"e3", "e4"}); err != nil {
					return err
				}
				return failed
			}); !errors.Is(err, failed) {
				t.Fatalf("InTx = %v, want the handler's error", err)
			}
			mark(t, st, 3, "e5")
			return st
		}, []string{"e3", "e4", "e6"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "diff.db")
			st := open(t, path)
			defer func() { st.Close() }()
			record(t, st)
			st = tt.read(t, st, path)
			if got := goneOf(t, st, k); !slices.Equal(got, tt.want) {
				t.Fatalf("gone = %v, want %v", got, tt.want)
			}
			// Forget drops what the attempt saw: everything is unseen.
			must(t, st.InTx(ctx, func(tx *Tx) error { return tx.Forget(k.RunID, k.Domain) }))
			if got := goneOf(t, st, k); !slices.Equal(got, all) {
				t.Fatalf("gone after Forget = %v, want %v", got, all)
			}
		})
	}
}

// goneOf lists the entries Gone returns for attempt k (observed before
// 100), in order.
func goneOf(t *testing.T, st *State, k Key) []string {
	t.Helper()
	var out []string
	must(t, st.InTx(context.Background(), func(tx *Tx) error {
		return tx.Gone(k, 100, 2, func(batch []Seen) error {
			for _, s := range batch {
				out = append(out, s.Entry.ID)
			}
			return nil
		})
	}))
	return out
}

// TestAnEntryRecordedAfterASeenOneWasRemovedIsNotSeen: an attempt's seen
// pages name entries by document id. An entry that another run created,
// seen by the attempt and then removed (that run's plan was not applied),
// must not lend its id to an entry recorded later: the attempt never saw
// that one, and Gone must list it.
func TestAnEntryRecordedAfterASeenOneWasRemovedIsNotSeen(t *testing.T) {
	ctx := context.Background()
	st := openState(t, "")
	put := func(run, id string) {
		e := events.DirectoryEntry{ID: id, Username: id}
		hash, raw := Hash(e)
		must(t, st.InTx(ctx, func(tx *Tx) error {
			return tx.Put(run, "corp", Seen{Entry: e, Hash: hash, Active: true, Present: true, ObservedAt: 1}, raw, nil, nil)
		}))
	}
	k := Key{RunID: "r3", Domain: "corp", Attempt: 1}
	put("r1", "e1")
	put("r2", "e2") // the newest document
	must(t, st.InTx(ctx, func(tx *Tx) error { return tx.MarkSeenMany(k, 1, []string{"e2"}) }))
	must(t, st.InTx(ctx, func(tx *Tx) error { return tx.Undo("r2", "corp") }))
	put("r4", "e3")
	if got, want := goneOf(t, st, k), []string{"e1", "e3"}; !slices.Equal(got, want) {
		t.Fatalf("gone = %v, want %v", got, want)
	}
}

// TestSeenEntriesOfAnOlderVersionStillCount: attempts under way when
// adsync is upgraded saw entries as rows of the older `seen` table; after
// the upgrade (migration 0004) they count as seen, next to the pages seen
// afterwards, each for its own attempt; and new documents get ids of their
// own.
func TestSeenEntriesOfAnOlderVersionStillCount(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "diff.db")
	old := older.Store(t, path, "diff", "0004")
	k1 := Key{RunID: "r1", Domain: "corp", Attempt: 1}
	k2 := Key{RunID: "r1", Domain: "corp", Attempt: 2}
	for i, id := range []string{"e1", "e2", "e3", "e4", "e5"} {
		e := events.DirectoryEntry{ID: id, Username: id}
		hash, raw := Hash(e)
		doc := 10 * (i + 1) // ids with gaps, as deletions leave them
		if _, err := old.ExecContext(ctx, `INSERT INTO entry_docs (id, entry) VALUES (?, ?)`, doc, raw); err != nil {
			t.Fatal(err)
		}
		if _, err := old.ExecContext(ctx, `INSERT INTO entries (domain, external_id, hash, doc, active, present, observed_at) VALUES ('corp', ?, ?, ?, 1, 1, 1)`,
			id, hash, doc); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []struct {
		k  Key
		id string
	}{{k1, "e1"}, {k1, "e3"}, {k1, "unknown"}, {k2, "e2"}, {Key{RunID: "r0", Domain: "corp", Attempt: 1}, "e4"}} {
		if _, err := old.ExecContext(ctx, `INSERT INTO seen (run_id, domain, attempt, external_id) VALUES (?, ?, ?, ?)`,
			s.k.RunID, s.k.Domain, s.k.Attempt, s.id); err != nil {
			t.Fatal(err)
		}
	}
	must(t, old.Close())

	st := openState(t, path)
	must(t, st.InTx(ctx, func(tx *Tx) error { return tx.MarkSeenMany(k1, 2, []string{"e4"}) }))
	if got, want := goneOf(t, st, k1), []string{"e2", "e5"}; !slices.Equal(got, want) {
		t.Errorf("gone for attempt 1 = %v, want %v", got, want)
	}
	if got, want := goneOf(t, st, k2), []string{"e1", "e3", "e4", "e5"}; !slices.Equal(got, want) {
		t.Errorf("gone for attempt 2 = %v, want %v", got, want)
	}
	must(t, st.InTx(ctx, func(tx *Tx) error {
		if err := putNew(tx, "r2", "e6"); err != nil {
			return err
		}
		if err := tx.saveCreated(); err != nil {
			return err
		}
		var doc int
		if err := tx.tx.QueryRow(`SELECT doc FROM entries WHERE external_id='e6'`).Scan(&doc); err != nil {
			return err
		}
		if doc != 51 {
			t.Errorf("new entry's document id = %d, want 51", doc)
		}
		return nil
	}))
}

// TestEntriesThePageRecordedAreSeen: the entries a page records for the
// first time are seen by its attempt without being looked up again (their
// document ids are known), also one recorded twice by the page; so even
// with an observation time before the attempt's start (a clock that went
// back), Gone does not list them.
func TestEntriesThePageRecordedAreSeen(t *testing.T) {
	ctx := context.Background()
	st := openState(t, "")
	k := Key{RunID: "r1", Domain: "corp", Attempt: 1}
	put := func(tx *Tx, id, mail string) error {
		e := events.DirectoryEntry{ID: id, Username: id, Email: mail}
		hash, raw := Hash(e)
		return tx.Put("r1", "corp", Seen{Entry: e, Hash: hash, Active: true, Present: true, ObservedAt: 1}, raw, nil, nil)
	}
	must(t, st.InTx(ctx, func(tx *Tx) error {
		for _, id := range []string{"old1", "old2"} {
			if err := put(tx, id, ""); err != nil {
				return err
			}
		}
		return nil
	}))
	must(t, st.InTx(ctx, func(tx *Tx) error {
		for _, e := range []struct{ id, mail string }{{"new1", ""}, {"twice", "a@x"}, {"twice", "b@x"}, {"new2", ""}} {
			if err := put(tx, e.id, e.mail); err != nil {
				return err
			}
		}
		return tx.MarkSeenMany(k, 1, []string{"old1"})
	}))
	if got, want := goneOf(t, st, k), []string{"old2"}; !slices.Equal(got, want) {
		t.Fatalf("gone = %v, want %v", got, want)
	}
}

// TestCorruptSeenPagesStopGone: a seen page that names a document id diff
// never handed out (or is not a list of ids) makes Gone fail, naming the
// attempt, instead of reading it as "nothing seen" and listing every entry.
func TestCorruptSeenPagesStopGone(t *testing.T) {
	ctx := context.Background()
	k := Key{RunID: "r1", Domain: "corp", Attempt: 1}
	for _, docs := range []string{"1,999999", "1,x", "0"} {
		t.Run(docs, func(t *testing.T) {
			st := openState(t, "")
			must(t, st.InTx(ctx, func(tx *Tx) error {
				if err := putNew(tx, "r0", "e1"); err != nil {
					return err
				}
				if err := tx.saveCreated(); err != nil {
					return err
				}
				_, err := tx.tx.Exec(`INSERT INTO seen_pages (run_id, domain, attempt, seq, docs) VALUES (?, ?, ?, 1, ?)`, k.RunID, k.Domain, k.Attempt, docs)
				return err
			}))
			var listed []string
			err := st.InTx(ctx, func(tx *Tx) error {
				return tx.Gone(k, 100, 2, func(batch []Seen) error {
					for _, s := range batch {
						listed = append(listed, s.Entry.ID)
					}
					return nil
				})
			})
			if err == nil || !strings.Contains(err.Error(), "seen pages of r1/corp attempt 1 are corrupt") || len(listed) > 0 {
				t.Fatalf("Gone = %v, listed %v; want an error naming the corrupt seen pages and nothing listed", err, listed)
			}
		})
	}
}

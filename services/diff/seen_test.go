package diff

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/adsync/adsync/events"
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
				e := events.DirectoryEntry{ID: id, Username: id}
				hash, raw := Hash(e)
				if err := tx.Put("r0", "corp", Seen{Entry: e, Hash: hash, Active: true, Present: true, ObservedAt: 1}, raw, nil, nil); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	mark := func(t *testing.T, st *State, seq int, ids ...string) {
		must(t, st.InTx(ctx, func(tx *Tx) error { return tx.MarkSeenMany(k, ids) }))
	}
	gone := func(t *testing.T, st *State) []string {
		var out []string
		must(t, st.InTx(ctx, func(tx *Tx) error {
			return tx.Gone(k, 100, 2, func(batch []Seen) error {
				for _, s := range batch {
					out = append(out, s.Entry.ID)
				}
				return nil
			})
		}))
		return out
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
			must(t, st.InTx(ctx, func(tx *Tx) error { return tx.MarkSeenMany(other, []string{"e3"}) }))
			return st
		}, []string{"e3", "e4", "e5", "e6"}},
		{"a page's transaction rolled back", func(t *testing.T, st *State, _ string) *State {
			mark(t, st, 1, "e1", "e2")
			failed := errors.New("handler failed")
			if err := st.InTx(ctx, func(tx *Tx) error {
				if err := tx.MarkSeenMany(k, []string{"e3", "e4"}); err != nil {
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
			if got := gone(t, st); !slices.Equal(got, tt.want) {
				t.Fatalf("gone = %v, want %v", got, tt.want)
			}
			// Forget drops what the attempt saw: everything is unseen.
			must(t, st.InTx(ctx, func(tx *Tx) error { return tx.Forget(k.RunID, k.Domain) }))
			if got := gone(t, st); !slices.Equal(got, all) {
				t.Fatalf("gone after Forget = %v, want %v", got, all)
			}
		})
	}
}

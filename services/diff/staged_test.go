package diff

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/holds"
)

// A first sync stages its new entries and records them when the attempt
// ends. What it publishes and what it records in the end must be what
// recording each page as it came gave: the same batches, the same plan,
// the same entries. Each scenario runs both ways.
func TestAFirstSyncStagedPublishesAndRecordsTheSame(t *testing.T) {
	ctx := context.Background()
	r1, r2 := runOf{"r1", 1, t0}, runOf{"r1", 2, t0.Add(60e9)}
	changedB := func(p *events.DirectoryPage) *events.DirectoryPage {
		p.Entries = append(p.Entries, events.DirectoryEntry{ID: "id-b", DN: "CN=b,OU=moved", Username: "b"})
		return p
	}
	tests := []struct {
		name  string
		steps func(s *Service) error
		cap   int // ids the staging holds; 0: as built
	}{
		{name: "pages, then the reader's word", steps: func(s *Service) error {
			return errors.Join(s.HandlePage(ctx, r1.page(1, "a", "b")), s.HandlePage(ctx, r1.page(2, "c")), s.HandleCompleted(ctx, r1.completed(2, 3)))
		}},
		{name: "the reader's word first", steps: func(s *Service) error {
			return errors.Join(s.HandleCompleted(ctx, r1.completed(2, 3)), s.HandlePage(ctx, r1.page(1, "a", "b")), s.HandlePage(ctx, r1.page(2, "c")))
		}},
		{name: "an id again on a later page, changed", steps: func(s *Service) error {
			return errors.Join(s.HandlePage(ctx, r1.page(1, "a", "b")), s.HandlePage(ctx, changedB(r1.page(2, "c"))), s.HandleCompleted(ctx, r1.completed(2, 4)))
		}},
		{name: "an id again on a later page, unchanged", steps: func(s *Service) error {
			return errors.Join(s.HandlePage(ctx, r1.page(1, "a", "b")), s.HandlePage(ctx, r1.page(2, "c", "a")), s.HandleCompleted(ctx, r1.completed(2, 4)))
		}},
		{name: "an id twice in a page", steps: func(s *Service) error {
			return errors.Join(s.HandlePage(ctx, changedB(r1.page(1, "a", "b"))), s.HandlePage(ctx, r1.page(2, "c")), s.HandleCompleted(ctx, r1.completed(2, 4)))
		}},
		{name: "a page delivered twice", steps: func(s *Service) error {
			return errors.Join(s.HandlePage(ctx, r1.page(1, "a", "b")), s.HandlePage(ctx, r1.page(1, "a", "b")), s.HandlePage(ctx, r1.page(2, "c")),
				s.HandleCompleted(ctx, r1.completed(2, 3)))
		}},
		{name: "a failed attempt, then another", steps: func(s *Service) error {
			return errors.Join(s.HandlePage(ctx, r1.page(1, "a", "b")), s.HandleFailed(ctx, r1.failed(1)),
				s.HandlePage(ctx, r2.page(1, "a", "b")), s.HandlePage(ctx, r2.page(2, "c")), s.HandleCompleted(ctx, r2.completed(2, 3)))
		}},
		{name: "more ids than the staging holds", cap: 2, steps: func(s *Service) error {
			return errors.Join(s.HandlePage(ctx, r1.page(1, "a", "b")), s.HandlePage(ctx, r1.page(2, "c")), s.HandlePage(ctx, r1.page(3, "d")),
				s.HandleCompleted(ctx, r1.completed(3, 4)))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got [2]outcome
			for i, staging := range []bool{false, true} {
				was := maxStagedIDs
				maxStagedIDs = 0
				if staging {
					maxStagedIDs = cmp.Or(tt.cap, was)
				}
				s, rec := newServiceWith(t, Config{StreamFirstSync: true})
				err := tt.steps(s)
				maxStagedIDs = was
				must(t, err)
				got[i] = outcomeOf(t, s, rec.take())
			}
			if !reflect.DeepEqual(got[0], got[1]) {
				t.Fatalf("staged:\n%+v\nrecorded as read:\n%+v", got[1], got[0])
			}
			if n := got[1].created; n == 0 {
				t.Fatalf("nothing created: %+v", got[1])
			}
		})
	}
	// The staging is used: before the last page, the entries wait in it.
	s, _ := newServiceWith(t, Config{StreamFirstSync: true})
	must(t, errors.Join(s.HandlePage(ctx, r1.page(1, "a", "b")), s.HandlePage(ctx, r1.page(2, "c"))))
	if staged, recorded := countStaged(t, s); staged != 3 || recorded != 0 {
		t.Fatalf("during a first sync: %d staged, %d recorded; want 3 and 0", staged, recorded)
	}
}

// After a restart the staging's ids are no longer known: the next page
// records what was staged first, and nothing is created twice.
func TestAStagedFirstSyncSurvivesARestart(t *testing.T) {
	ctx := context.Background()
	r := runOf{"r1", 1, t0}
	path := filepath.Join(t.TempDir(), "diff.db")
	open := func() (*Service, *recorder) {
		rec := &recorder{}
		s, err := New(ctx, Config{DBPath: path, StreamFirstSync: true}, rec, fakeDirectory{}, &memHolds{m: map[string]holds.Plan{}})
		must(t, err)
		return s, rec
	}
	s, rec := open()
	must(t, errors.Join(s.HandlePage(ctx, r.page(1, "a", "b")), s.HandlePage(ctx, r.page(2, "c"))))
	before := rec.take()
	must(t, s.Close())
	s, rec = open()
	defer s.Close()
	must(t, errors.Join(s.HandlePage(ctx, r.page(3, "d", "a")), s.HandleCompleted(ctx, r.completed(3, 5))))
	done, ops := ended(t, append(before, rec.take()...))
	if done == nil || done.Planned.Created != 4 || done.Planned.Unchanged != 1 {
		t.Fatalf("plan: %+v, want 4 created and a unchanged", done)
	}
	if got := slices.Sorted(slices.Values(ops[events.OpCreate])); !slices.Equal(got, []string{"id-a", "id-b", "id-c", "id-d"}) {
		t.Fatalf("created %v, want each of a, b, c, d once", got)
	}
	if staged, recorded := countStaged(t, s); staged != 0 || recorded != 4 {
		t.Fatalf("after the run: %d staged, %d recorded; want 0 and 4", staged, recorded)
	}
}

// outcome is what a run left: its batches' changes, its plan, the entries.
type outcome struct {
	ops     map[string][]string
	created int
	plan    events.Counts
	entries []string
	staged  int
}

func outcomeOf(t *testing.T, s *Service, evs []events.Event) outcome {
	t.Helper()
	done, ops := ended(t, evs)
	if done == nil {
		t.Fatal("the run did not complete")
	}
	o := outcome{ops: ops, created: done.Planned.Created, plan: done.Planned}
	rows, err := s.state.db.Query(`SELECT external_id, hex(hash), active, present, created_run, d.entry FROM entries e JOIN entry_docs d ON d.id=e.doc ORDER BY external_id`)
	must(t, err)
	defer rows.Close()
	for rows.Next() {
		var id, hash, run, doc string
		var active, present bool
		must(t, rows.Scan(&id, &hash, &active, &present, &run, &doc))
		o.entries = append(o.entries, fmt.Sprint(id, hash, active, present, run, doc))
	}
	must(t, rows.Err())
	o.staged, _ = countStaged(t, s)
	return o
}

// countStaged returns the entries staged and those recorded.
func countStaged(t *testing.T, s *Service) (staged, recorded int) {
	t.Helper()
	must(t, s.state.db.QueryRow(`SELECT (SELECT count(*) FROM staged_entries), (SELECT count(*) FROM entries)`).Scan(&staged, &recorded))
	return staged, recorded
}

package accounts

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/adsync/adsync/events"
)

// TestStagedBatchesComeInOrder stages a plan's batches in a shuffled order
// (two attempts, pages and removals, more than two groups of reads) and
// checks that eachStaged hands every batch over once, decoded, in plan
// order: attempts, then pages before removals, then sequence. A batch that
// cannot be decoded stops it with an error naming the batch, after the
// batches before it and none after.
func TestStagedBatchesComeInOrder(t *testing.T) {
	ctx := context.Background()
	type planned struct {
		attempt int
		batch   string
	}
	var plan []planned
	for attempt := 1; attempt <= 2; attempt++ {
		for seq := 1; seq <= stagedGroup+3; seq++ {
			plan = append(plan, planned{attempt, fmt.Sprintf("p%d", seq)})
		}
		plan = append(plan, planned{attempt, "r1"}, planned{attempt, "r2"})
	}
	// want: plan order; p10 sorts after p9 (by number, not text).
	stage := func(t *testing.T, s *Store) map[string]string {
		ids := map[string]string{} // message id -> "attempt/batch"
		order := rand.New(rand.NewPCG(1, 2)).Perm(len(plan))
		for _, i := range order {
			p := plan[i]
			b := batch(run1, p.batch, create(fmt.Sprintf("id-%d-%s", p.attempt, p.batch), fmt.Sprintf("u%d%s", p.attempt, p.batch), 1))
			b.Attempt = p.attempt
			if _, err := s.Stage(ctx, b.MessageID(), b); err != nil {
				t.Fatal(err)
			}
			ids[b.MessageID()] = fmt.Sprintf("%d/%s", p.attempt, p.batch)
		}
		return ids
	}
	walk := func(s *Store, ids map[string]string) (got []string, err error) {
		err = s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
			return s.eachStaged(ctx, tx, run1.RunID, "corp", func(id string, b *events.AccountChanges) error {
				name := ids[id]
				if want := fmt.Sprintf("%d/%s", b.Attempt, b.Batch); name != want || len(b.Changes) != 1 ||
					b.Changes[0].ExternalID != fmt.Sprintf("id-%d-%s", b.Attempt, b.Batch) {
					return fmt.Errorf("batch %s came as %s with %+v", name, want, b.Changes)
				}
				got = append(got, name)
				return nil
			})
		})
		return got, err
	}
	var want []string
	for _, p := range plan {
		want = append(want, fmt.Sprintf("%d/%s", p.attempt, p.batch))
	}

	// Groups of batches are cut by count (stagedGroup) or, for large
	// batches, by size: one batch a group, about three, or by count.
	for _, bytes := range []int{1, 3 * 60, stagedGroupBytes} {
		t.Run(fmt.Sprintf("every batch once, in plan order, groups of %d bytes", bytes), func(t *testing.T) {
			s := openStore(t, RuleUserAtDomain)
			s.groupBytes = bytes
			ids := stage(t, s)
			got, err := walk(s, ids)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("order:\n got %v\nwant %v", got, want)
			}
		})
	}
	t.Run("an unreadable batch stops the walk", func(t *testing.T) {
		for _, bad := range []int{0, stagedGroup - 1, stagedGroup, len(want) - 1} {
			t.Run(want[bad], func(t *testing.T) {
				s := openStore(t, RuleUserAtDomain)
				ids := stage(t, s)
				var badID string
				for id, name := range ids {
					if name == want[bad] {
						badID = id
					}
				}
				if _, err := s.db.ExecContext(ctx, `UPDATE staged SET payload=x'00ff' WHERE message_id=?`, badID); err != nil {
					t.Fatal(err)
				}
				got, err := walk(s, ids)
				if err == nil || !strings.Contains(err.Error(), badID) || !strings.Contains(err.Error(), "unreadable") {
					t.Fatalf("error = %v, want one naming %s as unreadable", err, badID)
				}
				if !slices.Equal(got, want[:bad]) {
					t.Fatalf("handed over before the error: %v, want %v", got, want[:bad])
				}
			})
		}
	})
}

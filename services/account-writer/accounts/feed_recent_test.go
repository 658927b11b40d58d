package accounts

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/adsync/adsync/events"
)

// recentFeed holds committed rows while they follow each other, and
// answers the relay only from the row after its position.
func TestRecentFeed(t *testing.T) {
	// tx is a transaction's rows (sequence numbers) and whether it
	// committed; ask is the relay's position after the transactions.
	type tx struct {
		seqs      []int64
		committed bool
	}
	cases := []struct {
		name string
		txs  []tx
		ask  int64
		n    int
		want []int64 // nil: not held, the relay reads the table
	}{
		{"committed rows follow the relay's position", []tx{{[]int64{1, 2, 3}, true}, {[]int64{4, 5}, true}}, 0, 10, []int64{1, 2, 3, 4, 5}},
		{"at most n", []tx{{[]int64{1, 2, 3}, true}}, 0, 2, []int64{1, 2}},
		{"rows up to the position are past", []tx{{[]int64{1, 2, 3}, true}}, 2, 10, []int64{3}},
		{"a rolled back transaction's rows are never held", []tx{{[]int64{1, 2}, true}, {[]int64{3, 4}, false}}, 2, 10, nil},
		{"after a rollback the next commit reuses its numbers", []tx{{[]int64{1, 2}, true}, {[]int64{3}, false}, {[]int64{3, 4}, true}}, 2, 10, []int64{3, 4}},
		{"a gap between commits: the relay reads the table up to it", []tx{{[]int64{1, 2}, true}, {[]int64{4, 5}, true}}, 2, 10, nil},
		{"and from it on the rows are held", []tx{{[]int64{1, 2}, true}, {[]int64{4, 5}, true}}, 3, 10, []int64{4, 5}},
		{"a gap within a transaction: held up to it", []tx{{[]int64{1, 2, 4}, true}}, 0, 10, []int64{1, 2}},
		{"a relay behind what is held reads the table", []tx{{[]int64{5, 6}, true}}, 2, 10, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var r recentFeed
			for _, x := range c.txs {
				for _, seq := range x.seqs {
					r.add(seq, "corp", []byte(fmt.Sprintf(`{"seq":0,"n":%d}`, seq)))
				}
				r.end(x.committed)
			}
			var got []int64
			for _, e := range r.after(c.ask, c.n) {
				got = append(got, e.Seq)
				if want := fmt.Sprintf(`{"seq":0,"n":%d}`, e.Seq); string(e.raw) != want {
					t.Fatalf("row %d holds %s, want %s", e.Seq, e.raw, want)
				}
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("after %d: %v, want %v", c.ask, got, c.want)
			}
		})
	}
}

// recentFeed holds at most recentFeedBytes: the rest is the table's.
func TestRecentFeedIsBounded(t *testing.T) {
	var r recentFeed
	raw := make([]byte, 1<<20)
	for seq := int64(1); seq <= 10; seq++ {
		r.add(seq, "corp", raw)
	}
	r.end(true)
	held := r.after(0, 100)
	if len(held) != recentFeedBytes/len(raw) {
		t.Fatalf("%d rows of 1 MiB held, want %d", len(held), recentFeedBytes/len(raw))
	}
	if r.after(int64(len(held)), 100) != nil {
		t.Fatal("rows past the bound held")
	}
}

// What the relay gets from the rows held is what the table holds: a first
// sync's creations (many rows a statement), a local hold (one row), and a
// hold that failed (rolled back).
func TestOutboxFromMemoryIsTheTable(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "accounts.db"), Options{Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var changes []events.AccountChange
	for n := range 300 {
		id := fmt.Sprintf("id-%03d", n)
		changes = append(changes, events.AccountChange{Op: events.OpCreate, ExternalID: id, Version: 1,
			Entry: &events.DirectoryEntry{ID: id, DN: fmt.Sprintf("uid=u%03d,dc=x", n), Username: fmt.Sprintf("u%03d", n)}})
	}
	c := &events.AccountChanges{Run: events.Run{RunID: "r1", Job: "j"}, Domain: "corp", Attempt: 1, Batch: "p1", Changes: changes, ApplyNow: true}
	if _, err := s.Stage(ctx, c.MessageID(), c); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeactivateLocally(ctx, "u007@corp", "left the company", "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeactivateLocally(ctx, "nobody@corp", "no such account", "alice"); err == nil {
		t.Fatal("a hold of no account succeeded")
	}
	if _, err := s.ReactivateLocally(ctx, "u007@corp", "alice"); err != nil {
		t.Fatal(err)
	}
	held := s.recent.after(0, 1000) // before the relay's reads forget them
	var got []FeedEvent
	for after := int64(0); ; {
		batch, err := s.Outbox(ctx, after, 64)
		if err != nil {
			t.Fatal(err)
		}
		if len(batch) == 0 {
			break
		}
		got = append(got, batch...)
		after = batch[len(batch)-1].Seq
	}
	rows, err := s.db.Reader.QueryContext(ctx, `SELECT seq, domain, payload FROM feed_outbox ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var table []FeedEvent
	for rows.Next() {
		var e FeedEvent
		if err := rows.Scan(&e.Seq, &e.Domain, &e.raw); err != nil {
			t.Fatal(err)
		}
		table = append(table, e)
	}
	if len(table) != 302 {
		t.Fatalf("the table holds %d changes, want 302 (300 created, a hold set and lifted)", len(table))
	}
	for _, c := range []struct {
		name string
		got  []FeedEvent
	}{{"held in memory", held}, {"read by the relay", got}} {
		if len(c.got) != len(table) {
			t.Fatalf("%s: %d changes, the table holds %d", c.name, len(c.got), len(table))
		}
		for i := range table {
			if c.got[i].Seq != table[i].Seq || c.got[i].Domain != table[i].Domain || string(c.got[i].Payload()) != string(table[i].Payload()) {
				t.Fatalf("%s: change %d is %d %s %s, the table holds %d %s %s", c.name, i+1,
					c.got[i].Seq, c.got[i].Domain, c.got[i].Payload(), table[i].Seq, table[i].Domain, table[i].Payload())
			}
		}
	}
}

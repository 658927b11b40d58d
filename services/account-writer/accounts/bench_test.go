package accounts

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/testenv"
)

// BenchmarkFirstSyncApply: a first sync's plan of 100,000 creations, staged
// batch by batch and then applied whole, or applied batch by batch as a
// first sync read is (apply_now); what account-writer does between the
// first batch and sync.completed. Reports ns per account.
func BenchmarkFirstSyncApply(b *testing.B) {
	for _, ids := range testenv.IDOrders {
		b.Run(ids.Name, func(b *testing.B) { benchFirstSyncApply(b, ids.ID, false) })
		b.Run(ids.Name+"/as_read", func(b *testing.B) { benchFirstSyncApply(b, ids.ID, true) })
	}
}

func benchFirstSyncApply(b *testing.B, newID func(int) string, applyNow bool) {
	const batches, perBatch = 100, 1000
	ctx := context.Background()
	clock := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	for i := range b.N {
		b.StopTimer()
		// Half the accounts come after the report is full, as in a first
		// sync of more than 100,000 users (ReportMaxRows' default).
		s, err := Open(ctx, filepath.Join(b.TempDir(), "accounts.db"), Options{ReportMaxRows: batches * perBatch / 2, Now: func() time.Time { return clock }})
		if err != nil {
			b.Fatal(err)
		}
		run := events.Run{RunID: fmt.Sprintf("r%d", i), Job: "j"}
		plan := benchPlan(run, batches, perBatch, newID, events.OpCreate, "", applyNow)
		b.StartTimer()
		stageAndApply(b, s, run, plan)
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batches*perBatch), "ns/account")
}

// BenchmarkUpdateApply: a run that changes the display name of each of
// 10,000 accounts, staged batch by batch and applied at its end, as a
// run after the first one is; each update also writes the account to the
// change feed. Reports ns per account.
func BenchmarkUpdateApply(b *testing.B) {
	const batches, perBatch = 10, 1000
	ctx := context.Background()
	clock := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	s, err := Open(ctx, filepath.Join(b.TempDir(), "accounts.db"), Options{ReportMaxRows: batches * perBatch, Now: func() time.Time { return clock }})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	newID := testenv.IDOrders[len(testenv.IDOrders)-1].ID
	first := events.Run{RunID: "first", Job: "j"}
	stageAndApply(b, s, first, benchPlan(first, batches, perBatch, newID, events.OpCreate, "", false))
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		run := events.Run{RunID: fmt.Sprintf("r%d", i), Job: "j"}
		plan := benchPlan(run, batches, perBatch, newID, events.OpUpdate, fmt.Sprintf(" (run %d)", i), false)
		b.StartTimer()
		stageAndApply(b, s, run, plan)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batches*perBatch), "ns/account")
}

// benchPlan is a run's plan of batches*perBatch changes of op, one an
// account, each with the display name "User n" and suffix.
func benchPlan(run events.Run, batches, perBatch int, newID func(int) string, op, suffix string, applyNow bool) []*events.AccountChanges {
	var plan []*events.AccountChanges
	for p := range batches {
		var changes []events.AccountChange
		for j := range perBatch {
			n := p*perBatch + j
			id := newID(n)
			ch := events.AccountChange{Op: op, ExternalID: id, Version: 10, Entry: &events.DirectoryEntry{
				ID: id, DN: fmt.Sprintf("uid=user%07d,ou=people,dc=example,dc=org", n), Username: fmt.Sprintf("user%07d", n),
				Email: fmt.Sprintf("user%07d@example.org", n), DisplayName: fmt.Sprintf("User %07d%s", n, suffix), GivenName: "User", Surname: fmt.Sprintf("%07d", n)}}
			if op == events.OpUpdate {
				ch.Fields = []string{"display_name"}
			}
			changes = append(changes, ch)
		}
		plan = append(plan, &events.AccountChanges{Run: run, Domain: "corp", Attempt: 1, Batch: fmt.Sprintf("p%d", p+1), Changes: changes, ApplyNow: applyNow})
	}
	return plan
}

// stageAndApply stages a plan and applies it (sync.completed).
func stageAndApply(b *testing.B, s *Store, run events.Run, plan []*events.AccountChanges) {
	ctx := context.Background()
	for _, c := range plan {
		if _, err := s.Stage(ctx, c.MessageID(), c); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := s.Expect(ctx, &events.ChangesCompleted{Run: run, Domain: "corp", Domains: []string{"corp"}, Attempt: 1,
		Outcome: events.OutcomeCompleted, TotalBatches: len(plan), Attempts: 1}); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkSCIMPaging: a SCIM client paging through 100,000 users (in no
// group, or each in two of 50 groups) with count=1000, as the api asks
// account-writer for each page, each page encoded as its reply is.
// Reports ns per user.
func BenchmarkSCIMPaging(b *testing.B) {
	const users, perPage = 100_000, 1000
	for _, groups := range []int{0, 2} {
		b.Run(fmt.Sprintf("groups=%d", groups), func(b *testing.B) {
			s := benchStoreWithGroups(b, users, groups)
			var reply []byte
			b.ResetTimer()
			for range b.N {
				n := 0
				for start := 1; start <= users; start += perPage {
					p, err := s.QuerySCIMUsers(context.Background(), Query{StartIndex: start, Count: perPage})
					if err != nil {
						b.Fatal(err)
					}
					if reply, err = json.Append(reply[:0], p, json.SortMapKeys); err != nil {
						b.Fatal(err)
					}
					n += len(p.Users)
				}
				if n != users {
					b.Fatalf("paged %d users, want %d", n, users)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*users), "ns/user")
		})
	}
}

// benchStoreWithGroups is a store of n accounts (random ids), each in
// groups (0-2) of 50 groups, applied as a first sync.
func benchStoreWithGroups(b *testing.B, n, groups int) *Store {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "accounts.db"), Options{Now: time.Now})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	newID := testenv.IDOrders[len(testenv.IDOrders)-1].ID
	run := events.Run{RunID: "first", Job: "j"}
	const perBatch = 2500
	plan := benchPlan(run, n/perBatch, perBatch, newID, events.OpCreate, "", true)
	i := 0 // the user's number, in the plan's order
	for _, c := range plan {
		for k := range c.Changes {
			for _, g := range []int{i % 50, (i*7 + 3) % 50}[:groups] {
				if refs := c.Changes[k].Entry.GroupRefs; len(refs) == 0 || refs[0].ID != newID(1_000_000+g) {
					c.Changes[k].Entry.GroupRefs = append(refs, events.GroupRef{ID: newID(1_000_000 + g), Name: fmt.Sprintf("group-%02d", g),
						DN: fmt.Sprintf("cn=group-%02d,dc=example,dc=org", g)})
				}
			}
			i++
		}
	}
	stageAndApply(b, s, run, plan)
	// As account-writer does after a run: the indexes SCIM pages and
	// lookups use are built after a store's first sync.
	if err := s.BuildDeferredIndexes(ctx); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkFirstSyncWithGroups: BenchmarkFirstSyncApply's 100,000 accounts
// applied as read, each in two of 50 groups. Reports ns per account.
func BenchmarkFirstSyncWithGroups(b *testing.B) {
	for range b.N {
		benchStoreWithGroups(b, 100_000, 2)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*100_000), "ns/account")
}

// BenchmarkSCIMLookup: a SCIM client's `userName eq` lookup in 100,000
// users (each in two of 50 groups), as the api asks account-writer.
func BenchmarkSCIMLookup(b *testing.B) {
	s := benchStoreWithGroups(b, 100_000, 2)
	i := 0
	for b.Loop() {
		i = (i + 7919) % 100_000
		p, err := s.QueryUsers(context.Background(), Query{Filter: fmt.Sprintf(`userName eq "user%07d@corp"`, i), StartIndex: 1, Count: 100})
		if err != nil || len(p.Users) != 1 {
			b.Fatalf("lookup of user %d: %d users, %v", i, len(p.Users), err)
		}
	}
}

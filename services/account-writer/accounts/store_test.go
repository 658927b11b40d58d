package accounts

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/adsync/adsync/events"
)

func openStore(t *testing.T, rule LocalNamer) *Store {
	t.Helper()
	clock := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "accounts.db"), Options{LocalName: rule,
		Now: func() time.Time { clock = clock.Add(time.Second); return clock }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var run1 = events.Run{RunID: "r1", Job: "j"}

func batch(run events.Run, name string, changes ...events.AccountChange) *events.AccountChanges {
	return &events.AccountChanges{Run: run, Domain: "corp", Attempt: 1, Batch: name, Changes: changes}
}

func create(id, user string, version int64) events.AccountChange {
	return events.AccountChange{Op: events.OpCreate, ExternalID: id, Entry: &events.DirectoryEntry{ID: id, Username: user}, Version: version}
}

func done(run events.Run, batches int) *events.ChangesCompleted {
	return &events.ChangesCompleted{Run: run, Domain: "corp", Domains: []string{"corp"}, Attempt: 1, Outcome: events.OutcomeCompleted, TotalBatches: batches, Attempts: 1}
}

func list(t *testing.T, s *Store) map[string]Account {
	t.Helper()
	all, err := s.List(context.Background(), ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]Account{}
	for _, a := range all {
		m[a.ExternalID] = a
	}
	return m
}

func TestAPlanIsAppliedWholeOnceAllOfItIsHere(t *testing.T) {
	s := openStore(t, "")
	ctx := context.Background()
	b1 := batch(run1, "p1", create("g1", "alice", 10))
	b2 := batch(run1, "p2", create("g2", "bob", 10))
	if d, err := s.Stage(ctx, b1.MessageID(), b1); err != nil || d {
		t.Fatalf("stage: %v %v", d, err)
	}
	if d, err := s.Expect(ctx, done(run1, 2)); err != nil || d {
		t.Fatalf("expect with a batch missing: done=%v %v", d, err)
	}
	if n := len(list(t, s)); n != 0 {
		t.Fatalf("%d accounts before the plan is complete", n)
	}
	if _, err := s.Stage(ctx, b1.MessageID(), b1); err != nil { // redelivered
		t.Fatal(err)
	}
	d, err := s.Stage(ctx, b2.MessageID(), b2)
	if err != nil || !d {
		t.Fatalf("last batch: done=%v %v", d, err)
	}
	if _, err := s.Stage(ctx, b2.MessageID(), b2); err != nil { // redelivered after apply
		t.Fatal(err)
	}
	m := list(t, s)
	if len(m) != 2 || m["g1"].LocalName != "alice@corp" {
		t.Fatalf("accounts: %+v", m)
	}
	res, _ := s.DomainResults(ctx, "r1")
	if len(res) != 1 || res[0].Created != 2 {
		t.Fatalf("results %+v", res)
	}
}

func TestFailedAndHeldPlansApplyNothing(t *testing.T) {
	for _, outcome := range []string{events.OutcomeFailed, events.OutcomeHeld, events.OutcomeDryRun} {
		t.Run(outcome, func(t *testing.T) {
			s := openStore(t, "")
			ctx := context.Background()
			b := batch(run1, "p1", create("g1", "alice", 10))
			_, _ = s.Stage(ctx, b.MessageID(), b)
			c := done(run1, 1)
			c.Outcome = outcome
			if outcome == events.OutcomeHeld {
				c.Hold = &events.Hold{Reasons: []string{"x"}}
			}
			if d, err := s.Expect(ctx, c); err != nil || !d {
				t.Fatalf("done=%v %v", d, err)
			}
			if n := len(list(t, s)); n != 0 {
				t.Fatalf("%d accounts", n)
			}
			if outcome != events.OutcomeHeld {
				return
			}
			// Approval applies the held plan.
			res, err := s.Decide(ctx, &events.PlanDecided{Run: run1, Domain: "corp", Decision: events.DecisionApprove, DecidedBy: "me"})
			if err != nil || res.Counts.Created != 1 || len(list(t, s)) != 1 {
				t.Fatalf("approve: %+v %v", res, err)
			}
			if _, err := s.Decide(ctx, &events.PlanDecided{Run: run1, Domain: "corp", Decision: events.DecisionApprove}); err == nil {
				t.Fatal("a plan was approved twice")
			}
		})
	}
}

func TestLocalNamesAreNeverTakenOver(t *testing.T) {
	s := openStore(t, RuleDomainBackslash)
	ctx := context.Background()
	b := batch(run1, "p1", create("g1", "alice", 10), create("g2", "alice", 10))
	_, _ = s.Stage(ctx, b.MessageID(), b)
	if _, err := s.Expect(ctx, done(run1, 1)); err != nil {
		t.Fatal(err)
	}
	m := list(t, s)
	if len(m) != 1 || m["g1"].LocalName != `CORP\alice` {
		t.Fatalf("accounts %+v", m)
	}
	rep, err := s.Report(ctx, "r1", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var failed int
	for _, c := range rep.Changes {
		if c.Result == ResultFailed && strings.Contains(c.Error, `CORP\alice belongs to another account (directory id g1`) {
			failed++
		}
	}
	if failed != 1 || rep.Domains[0].Failed != 1 {
		t.Fatalf("report: %+v", rep)
	}
}

func TestOlderChangesLoseAndLocalHoldsStay(t *testing.T) {
	s := openStore(t, "")
	ctx := context.Background()
	b := batch(run1, "p1", create("g1", "alice", 20))
	_, _ = s.Stage(ctx, b.MessageID(), b)
	_, _ = s.Expect(ctx, done(run1, 1))
	if _, err := s.DeactivateLocally(ctx, "alice@corp", "on leave", ""); err != nil {
		t.Fatal(err)
	}
	run2 := events.Run{RunID: "r2", Job: "j"}
	old := events.AccountChange{Op: events.OpUpdate, ExternalID: "g1", Entry: &events.DirectoryEntry{ID: "g1", Username: "alice", Email: "old@x"}, Version: 10}
	newer := events.AccountChange{Op: events.OpReactivate, ExternalID: "g1", Entry: &events.DirectoryEntry{ID: "g1", Username: "alice", Email: "new@x"}, Version: 30}
	b2 := batch(run2, "p1", old, newer)
	_, _ = s.Stage(ctx, b2.MessageID(), b2)
	_, _ = s.Expect(ctx, done(run2, 1))
	a := list(t, s)["g1"]
	if a.Email != "new@x" || a.Active || a.DeactivatedBy != ByLocal || a.LocalNote != "on leave" || !a.DirectoryActive {
		t.Fatalf("account %+v", a)
	}
	res, _ := s.DomainResults(ctx, "r2")
	if res[0].Drift != 1 || res[0].Reactivated != 0 {
		t.Fatalf("result %+v", res[0])
	}
	if a, err := s.ReactivateLocally(ctx, "corp/g1", ""); err != nil || !a.Active {
		t.Fatalf("reactivate: %+v %v", a, err)
	}
}

// A plan can hold an account from two attempts of the read (a batch stored
// although diff never heard so, then the same change from the read that
// followed): it is applied in order, its newest state wins, and it is
// counted and reported once.
func TestAnAccountInTwoAttemptsOfAPlanIsCountedAndReportedOnce(t *testing.T) {
	s := openStore(t, "")
	ctx := context.Background()
	first := batch(run1, "p1", create("g1", "alice", 10))
	if _, err := s.Stage(ctx, first.MessageID(), first); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Expect(ctx, done(run1, 1)); err != nil {
		t.Fatal(err)
	}
	run2 := events.Run{RunID: "r2", Job: "j"}
	update := func(version int64, mail string, fields ...string) events.AccountChange {
		return events.AccountChange{Op: events.OpUpdate, ExternalID: "g1", Fields: fields, Version: version,
			Entry: &events.DirectoryEntry{ID: "g1", Username: "alice", Email: mail, DisplayName: mail}}
	}
	a1 := &events.AccountChanges{Run: run2, Domain: "corp", Attempt: 1, Batch: "p1", Changes: []events.AccountChange{update(20, "a@old.example", "email")}}
	a2 := &events.AccountChanges{Run: run2, Domain: "corp", Attempt: 2, Batch: "p1", Changes: []events.AccountChange{
		update(30, "a@new.example", "email", "display_name"), create("g2", "bob", 30)}}
	for _, b := range []*events.AccountChanges{a1, a2} {
		if _, err := s.Stage(ctx, b.MessageID(), b); err != nil {
			t.Fatal(err)
		}
	}
	c := done(run2, 2)
	c.Attempt, c.Attempts = 2, 2
	if d, err := s.Expect(ctx, c); err != nil || !d {
		t.Fatalf("expect: done=%v %v", d, err)
	}
	if m := list(t, s); m["g1"].Email != "a@new.example" || len(m) != 2 {
		t.Fatalf("accounts %+v", m)
	}
	res, err := s.DomainResults(ctx, "r2")
	if err != nil || len(res) != 1 || res[0].Updated != 1 || res[0].Created != 1 {
		t.Fatalf("results %+v %v", res, err)
	}
	rep, err := s.Report(ctx, "r2", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]int{}
	for _, ch := range rep.Changes {
		rows[ch.ExternalID]++
		// One row, telling the newest change.
		if ch.ExternalID == "g1" && (ch.Result != ResultApplied || !slices.Equal(ch.Fields, []string{"email", "display_name"})) {
			t.Errorf("g1's row: %+v", ch)
		}
	}
	if rows["g1"] != 1 || rows["g2"] != 1 {
		t.Fatalf("report rows per account %v: %+v", rows, rep.Changes)
	}
}

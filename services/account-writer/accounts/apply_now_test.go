package accounts

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/adsync/adsync/events"
)

// applyNow marks a batch as a page of a domain's first sync.
func applyNow(b *events.AccountChanges) *events.AccountChanges {
	b.ApplyNow = true
	return b
}

// A page of a domain's first sync is applied as it arrives, once however
// often it is delivered, and kept whatever the run's outcome; the rest of
// the plan (a batch staged as usual) follows the outcome. The domain's
// result counts both, and the report lists what was applied.
func TestAFirstSyncPageIsAppliedAsItArrives(t *testing.T) {
	for _, tt := range []struct {
		outcome     string
		accounts    int // after the run's end
		created     int
		updated     int
		reasonNotes bool // the reason says what was applied as it was read
		// decision on a held plan, and the counts after it
		decision                   string
		createdAfter, updatedAfter int
	}{
		{outcome: events.OutcomeCompleted, accounts: 3, created: 3, updated: 1},
		{outcome: events.OutcomeFailed, accounts: 2, created: 2, reasonNotes: true},
		{outcome: events.OutcomeHeld, accounts: 2, created: 2, decision: events.DecisionApprove, createdAfter: 3, updatedAfter: 1},
		{outcome: events.OutcomeHeld, accounts: 2, created: 2, decision: events.DecisionDiscard, createdAfter: 2},
	} {
		t.Run(tt.outcome+" "+tt.decision, func(t *testing.T) {
			s := openStore(t, "")
			ctx := context.Background()
			p1 := applyNow(batch(run1, "p1", create("g1", "alice", 10)))
			p2 := applyNow(batch(run1, "p2", create("g2", "bob", 10)))
			// The plan's own part: waits for the outcome.
			rename := create("g1", "alicia", 11)
			rename.Op, rename.Fields = events.OpUpdate, []string{"username"}
			p3 := batch(run1, "p3", rename, create("g3", "carol", 11))
			for _, b := range []*events.AccountChanges{p1, p1, p2, p3} { // p1 redelivered
				if d, err := s.Stage(ctx, b.MessageID(), b); err != nil || d {
					t.Fatalf("stage %s: done=%v %v", b.Batch, d, err)
				}
			}
			m := list(t, s)
			if len(m) != 2 || m["g1"].LocalName != "alice@corp" || m["g2"].LocalName != "bob@corp" {
				t.Fatalf("accounts before the plan's end: %+v, want alice and bob", m)
			}
			c := done(run1, 3)
			c.Outcome, c.Reason = tt.outcome, "connection reset"
			if tt.outcome == events.OutcomeHeld {
				c.Hold = &events.Hold{Reasons: []string{"x"}}
			}
			if d, err := s.Expect(ctx, c); err != nil || !d {
				t.Fatalf("expect: done=%v %v", d, err)
			}
			if n := len(list(t, s)); n != tt.accounts {
				t.Fatalf("%d accounts after the run's end, want %d", n, tt.accounts)
			}
			res, err := s.DomainResults(ctx, "r1")
			if err != nil || len(res) != 1 {
				t.Fatalf("results %+v %v", res, err)
			}
			if r := res[0]; r.Outcome != tt.outcome || r.Created != tt.created || r.Updated != tt.updated {
				t.Fatalf("result %+v, want %s with %d created and %d updated", r, tt.outcome, tt.created, tt.updated)
			}
			if got := strings.Contains(res[0].Reason, "applied as they were read"); got != tt.reasonNotes {
				t.Fatalf("reason %q: says what was applied as it was read: %v, want %v", res[0].Reason, got, tt.reasonNotes)
			}
			rep, err := s.Report(ctx, "r1", 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			applied := map[string]bool{}
			for _, ch := range rep.Changes {
				if ch.Op == events.OpCreate && ch.Result == ResultApplied {
					applied[ch.ExternalID] = true
				}
			}
			if !applied["g1"] || !applied["g2"] {
				t.Fatalf("report %+v does not list alice's and bob's creations as applied", rep.Changes)
			}
			if tt.decision == "" {
				return
			}
			// What was applied as it was read stays counted; an approved
			// plan's changes add to it.
			if _, err := s.Decide(ctx, &events.PlanDecided{Run: run1, Domain: "corp", Decision: tt.decision, DecidedBy: "me"}); err != nil {
				t.Fatal(err)
			}
			if res, err := s.DomainResults(ctx, "r1"); err != nil || len(res) != 1 || res[0].Created != tt.createdAfter || res[0].Updated != tt.updatedAfter {
				t.Fatalf("after the decision: %+v %v, want %d created and %d updated", res, err, tt.createdAfter, tt.updatedAfter)
			}
		})
	}
}

// A batch marked to apply at once that deactivates, or of a dry run, is
// staged with the plan: deactivations wait for the deletion guard, and a
// dry run writes nothing.
func TestOnlyFirstSyncCreationsApplyAtOnce(t *testing.T) {
	gone := events.AccountChange{Op: events.OpDeactivate, ExternalID: "g0", Reason: events.ReasonDirectoryRemoved, Version: 11}
	dry := run1
	dry.DryRun = true
	for _, tt := range []struct {
		name string
		b    *events.AccountChanges
	}{
		{"with a deactivation", applyNow(batch(run1, "p1", create("g1", "alice", 10), gone))},
		{"of a dry run", applyNow(batch(dry, "p1", create("g1", "alice", 10)))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t, "")
			ctx := context.Background()
			if _, err := s.Stage(ctx, tt.b.MessageID(), tt.b); err != nil {
				t.Fatal(err)
			}
			if n := len(list(t, s)); n != 0 {
				t.Fatalf("%d accounts before the plan's end, want none", n)
			}
		})
	}
}

// The report's bound holds for a run whose rows come in several
// transactions (pages applied as they arrive, the plan at the end, a batch
// after it, an approved held plan): each reporter starts from the rows the
// run has, which the store keeps as they are added (run_report_rows).
func TestTheReportBoundHoldsAcrossTransactions(t *testing.T) {
	three := func(name string, first int) *events.AccountChanges {
		var ch []events.AccountChange
		for i := first; i < first+3; i++ {
			ch = append(ch, create(fmt.Sprintf("g%d", i), fmt.Sprintf("user%d", i), 10))
		}
		return batch(run1, name, ch...)
	}
	for _, tt := range []struct {
		name      string
		max       int
		held      bool
		listed    int
		truncated int
	}{
		// 3 applied at once, 3 with the plan, 3 after it: 7 listed.
		{"a batch after the plan", 7, false, 7, 2},
		// 3 applied at once, 3 held (listed as held, then as applied).
		{"an approved held plan", 6, true, 6, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			clock := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
			s, err := Open(ctx, filepath.Join(t.TempDir(), "accounts.db"), Options{ReportMaxRows: tt.max, Now: func() time.Time { clock = clock.Add(time.Second); return clock }})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			stage := func(b *events.AccountChanges) {
				t.Helper()
				if _, err := s.Stage(ctx, b.MessageID(), b); err != nil {
					t.Fatal(err)
				}
			}
			stage(applyNow(three("p1", 1)))
			stage(three("p2", 4))
			c := done(run1, 2)
			if tt.held {
				c.Outcome, c.Hold = events.OutcomeHeld, &events.Hold{Reasons: []string{"x"}}
			}
			if _, err := s.Expect(ctx, c); err != nil {
				t.Fatal(err)
			}
			if tt.held {
				if _, err := s.Decide(ctx, &events.PlanDecided{Run: run1, Domain: "corp", Decision: events.DecisionApprove, DecidedBy: "me"}); err != nil {
					t.Fatal(err)
				}
			} else {
				stage(three("p3", 7)) // after the plan: applied on its own
			}
			rep, err := s.Report(ctx, "r1", 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Changes) != tt.listed || rep.Truncated != tt.truncated {
				t.Fatalf("report lists %d rows and %d not listed, want %d and %d: %+v", len(rep.Changes), rep.Truncated, tt.listed, tt.truncated, rep.Changes)
			}
		})
	}
}

// A creation of an account the store already holds as the directory has
// it — a first sync applied as it read, then failed: diff took its record
// back, the accounts stayed — is counted unchanged and writes nothing; a
// creation that differs in anything (a field, a group, the group's name,
// its state) updates the account.
func TestACreationOfAnAccountInPlaceIsUnchanged(t *testing.T) {
	entry := func(mail, group, groupName string) events.AccountChange {
		c := create("g1", "alice", 10)
		c.Entry.Email = mail
		if group != "" {
			c.Entry.GroupRefs = []events.GroupRef{{ID: group, Name: groupName, DN: "CN=" + groupName}}
		}
		return c
	}
	for _, tt := range []struct {
		name      string
		again     events.AccountChange
		locally   bool // deactivated locally in between
		unchanged bool
	}{
		{name: "the same", again: entry("a@x", "grp1", "staff"), unchanged: true},
		{name: "the same, held locally", again: entry("a@x", "grp1", "staff"), locally: true, unchanged: true},
		{name: "another mail", again: entry("b@x", "grp1", "staff")},
		{name: "another group", again: entry("a@x", "grp2", "staff")},
		{name: "the group renamed", again: entry("a@x", "grp1", "team")},
		{name: "no group", again: entry("a@x", "", "")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t, "")
			ctx := context.Background()
			first := applyNow(batch(run1, "p1", entry("a@x", "grp1", "staff")))
			if _, err := s.Stage(ctx, first.MessageID(), first); err != nil {
				t.Fatal(err)
			}
			if tt.locally {
				if _, err := s.DeactivateLocally(ctx, "alice@corp", "on leave", ""); err != nil {
					t.Fatal(err)
				}
			}
			before := list(t, s)["g1"]
			run2 := events.Run{RunID: "r2", Job: "j"}
			again := tt.again
			again.Version = 20
			b := applyNow(batch(run2, "p1", again))
			if _, err := s.Stage(ctx, b.MessageID(), b); err != nil {
				t.Fatal(err)
			}
			c := done(run2, 1)
			if _, err := s.Expect(ctx, c); err != nil {
				t.Fatal(err)
			}
			res, err := s.DomainResults(ctx, "r2")
			if err != nil || len(res) != 1 {
				t.Fatalf("results %+v %v", res, err)
			}
			r := res[0]
			after := list(t, s)["g1"]
			if tt.unchanged {
				if r.Unchanged != 1 || r.Created+r.Updated+r.Reactivated+r.Deactivated != 0 {
					t.Fatalf("result %+v, want 1 unchanged and nothing else", r)
				}
				if after.UpdatedAt != before.UpdatedAt || after.LastRunID != before.LastRunID {
					t.Fatalf("the account was written: %+v, before %+v", after, before)
				}
				if rep, err := s.Report(ctx, "r2", 0, 100); err != nil || len(rep.Changes) != 0 {
					t.Fatalf("report %+v %v, want no row", rep, err)
				}
				return
			}
			if r.Updated != 1 || r.Unchanged != 0 || r.Created != 0 {
				t.Fatalf("result %+v, want 1 updated", r)
			}
			if after.LastRunID != "r2" {
				t.Fatalf("the account was not updated: %+v", after)
			}
		})
	}
}

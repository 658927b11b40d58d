package accounts

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/adsync/adsync/events"
)

// TestPlainCreationsInBulkEqualOneByOne applies the same plans to three
// stores: one batch per change to a store with its unique indexes (each
// change goes through apply, one account at a time), and the whole plan
// as one batch (plain creations go through createMany, in chunks) to a
// store with them and to a new store, which goes without them until a
// creation might meet an account (uniqueKeys). Accounts, versions,
// groups, memberships, failures, counts and report rows must be the same.
func TestPlainCreationsInBulkEqualOneByOne(t *testing.T) {
	entry := func(id, user string) *events.DirectoryEntry {
		return &events.DirectoryEntry{ID: id, Username: user, UPN: user + "@corp.example.com", Email: user + "@example.org",
			DisplayName: "User " + user, GivenName: "Given " + user, Surname: "Sur'name \"" + user + "\" ü", DN: "uid=" + user + ",ou=people,dc=example,dc=org"}
	}
	mk := func(id, user string) events.AccountChange {
		return events.AccountChange{Op: events.OpCreate, ExternalID: id, Entry: entry(id, user), Version: 1795982705022292434}
	}
	disabled := func(id, user string) events.AccountChange {
		c := mk(id, user)
		c.Entry.Disabled, c.Entry.DisabledReason, c.Reason = true, events.ReasonDirectoryDisabled, events.ReasonDirectoryDisabled
		return c
	}
	staff := events.GroupRef{ID: "grp1", Name: "staff", DN: "cn=staff,ou=groups,dc=example,dc=org"}
	admins := events.GroupRef{ID: "grp2", Name: "admins", DN: "cn=admins,ou=groups,dc=example,dc=org"}
	withGroups := func(c events.AccountChange, refs ...events.GroupRef) events.AccountChange {
		if len(refs) == 0 {
			refs = []events.GroupRef{staff}
		}
		c.Entry.GroupRefs = refs
		return c
	}
	// groupsFor gives every user of a plan one or two groups.
	groupsFor := func(plan []events.AccountChange) []events.AccountChange {
		out := make([]events.AccountChange, len(plan))
		for i, c := range plan {
			e := *c.Entry
			c.Entry = &e
			if i%2 == 0 {
				out[i] = withGroups(c, staff)
			} else {
				out[i] = withGroups(c, staff, admins)
			}
		}
		return out
	}
	renamed := admins
	renamed.Name, renamed.DN = "administrators", "cn=administrators,ou=groups,dc=example,dc=org"
	many := func(n int) []events.AccountChange {
		var out []events.AccountChange
		for i := range n {
			out = append(out, mk(fmt.Sprintf("id%04d", i), fmt.Sprintf("user%04d", i)))
		}
		return out
	}
	cases := []struct {
		name string
		// before is applied first (one run), plan next (a second run).
		before []events.AccountChange
		plan   []events.AccountChange
		max    int
		rule   LocalNamer
		// per is the batch size of the bulk run (default: the whole plan).
		per int
	}{
		{name: "all plain, several chunks", plan: many(2*createChunk + 5)},
		{name: "disabled in the directory", plan: append(many(5), disabled("d1", "dora"), disabled("d2", "dan"))},
		{name: "two users of the batch want one local name", plan: append(many(5), mk("x1", "same"), mk("x2", "same"))},
		{name: "an account of the store holds the name", before: []events.AccountChange{mk("old", "taken")},
			plan: append(many(5), mk("new", "taken"))},
		{name: "an id twice in the batch", plan: append(many(5), mk("twice", "tw1"), mk("twice", "tw2"))},
		{name: "with groups", plan: append(many(5), withGroups(mk("g1", "grouped")))},
		{name: "everyone in groups, several chunks", plan: groupsFor(many(2*createChunk + 5))},
		{name: "a group renamed since the last run", before: []events.AccountChange{withGroups(mk("old", "olduser"), admins)},
			plan: append(groupsFor(many(4)), withGroups(mk("r1", "renamer"), renamed))},
		{name: "a group listed twice for one user", plan: append(many(5), withGroups(mk("g2", "twicegrouped"), staff, staff))},
		{name: "an update and a rename that frees a name", before: []events.AccountChange{mk("a1", "alice"), mk("b1", "bob")},
			plan: func() []events.AccountChange {
				ren := mk("a1", "alice2")
				ren.Op, ren.Fields = events.OpUpdate, []string{"username"}
				return append([]events.AccountChange{mk("c1", "alice")}, append(many(4), ren, mk("c2", "carol"))...)
			}()},
		{name: "one chunk of several meets a name the store holds", before: []events.AccountChange{mk("old", "user0100")},
			plan: many(2*createChunk + 5)},
		{name: "a creation of an account the store holds", before: []events.AccountChange{mk("id0070", "someone")},
			plan: many(2*createChunk + 5)},
		{name: "the report reaches its bound", plan: many(30), max: 20},
		{name: "batches after the report is full", plan: many(5 * 2 * createChunk), max: 5 * createChunk, per: 2 * createChunk},
		{name: `DOMAIN\user names`, before: []events.AccountChange{mk("old", "taken")}, plan: append(many(5), mk("new", "taken")), rule: RuleDomainBackslash},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			one := applyPlan(t, tc.rule, tc.before, tc.plan, tc.max, 1, true)
			per := tc.per
			if per == 0 {
				per = len(tc.plan)
			}
			for _, indexed := range []bool{true, false} {
				bulk := applyPlan(t, tc.rule, tc.before, tc.plan, tc.max, per, indexed)
				if one.dump != bulk.dump {
					t.Errorf("indexed %v: accounts differ:\none by one:\n%s\nin bulk:\n%s", indexed, one.dump, bulk.dump)
				}
				if one.counts != bulk.counts {
					t.Errorf("indexed %v: counts differ: one by one %+v, in bulk %+v", indexed, one.counts, bulk.counts)
				}
				if !slices.Equal(one.report, bulk.report) {
					t.Errorf("indexed %v: report differs:\none by one:\n%s\nin bulk:\n%s", indexed, strings.Join(one.report, "\n"), strings.Join(bulk.report, "\n"))
				}
				if one.truncated != bulk.truncated {
					t.Errorf("indexed %v: rows not listed: one by one %d, in bulk %d", indexed, one.truncated, bulk.truncated)
				}
			}
		})
	}
}

type planResult struct {
	dump      string
	counts    events.DomainResult
	report    []string
	truncated int
}

// applyPlan applies before (run r0) then plan (run r1) in batches of size
// per under a local-name rule, to a new store whose unique indexes are
// built first if indexed, and returns what the store holds.
func applyPlan(t *testing.T, rule LocalNamer, before, plan []events.AccountChange, maxRows, per int, indexed bool) planResult {
	t.Helper()
	ctx := context.Background()
	clock := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	s, err := Open(ctx, filepath.Join(t.TempDir(), "accounts.db"), Options{LocalName: rule, ReportMaxRows: maxRows, Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if indexed {
		if err := s.BuildDeferredIndexes(ctx); err != nil {
			t.Fatal(err)
		}
	}
	runPlan := func(run events.Run, changes []events.AccountChange, per int) {
		n := 0
		for start := 0; start < len(changes); start += per {
			n++
			b := &events.AccountChanges{Run: run, Domain: "corp", Attempt: 1, Batch: fmt.Sprintf("p%d", n), Changes: changes[start:min(start+per, len(changes))]}
			if _, err := s.Stage(ctx, b.MessageID(), b); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Expect(ctx, &events.ChangesCompleted{Run: run, Domain: "corp", Domains: []string{"corp"}, Attempt: 1,
			Outcome: events.OutcomeCompleted, TotalBatches: n, Attempts: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if len(before) > 0 {
		runPlan(events.Run{RunID: "r0", Job: "j"}, before, 1)
	}
	runPlan(events.Run{RunID: "r1", Job: "j"}, plan, per)
	var out planResult
	rows, err := s.db.QueryContext(ctx, `SELECT domain, external_id, username, local_name, upn, email, display_name, given_name, surname, dn,
		active, inactive_reason, deactivated_by, directory_active, directory_reason, version, created_at, updated_at, deactivated_at, last_run_id,
		typeof(active), typeof(version)
		FROM accounts ORDER BY domain, external_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var dump strings.Builder
	for rows.Next() {
		cols := make([]any, 22)
		ptrs := make([]any, len(cols))
		for i := range cols {
			ptrs[i] = &cols[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&dump, "%#v\n", cols)
	}
	out.dump = dump.String()
	if strings.Count(out.dump, "\n") == 0 {
		t.Fatal("no accounts")
	}
	for _, q := range []string{`SELECT domain, external_id, name, dn, updated_at FROM groups ORDER BY domain, external_id`,
		`SELECT m.domain, a.external_id, m.group_id FROM memberships m JOIN accounts a ON a.id = m.account ORDER BY 1, 2, 3`} {
		grows, err := s.db.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for grows.Next() {
			cols := make([]any, 5)
			ptrs := make([]any, len(cols))
			for i := range cols {
				ptrs[i] = &cols[i]
			}
			n, _ := grows.Columns()
			if err := grows.Scan(ptrs[:len(n)]...); err != nil {
				t.Fatal(err)
			}
			out.dump += fmt.Sprintf("%#v\n", cols[:len(n)])
		}
		grows.Close()
	}
	frows, err := s.db.QueryContext(ctx, `SELECT external_id, error FROM failed_changes ORDER BY external_id`)
	if err != nil {
		t.Fatal(err)
	}
	for frows.Next() {
		var id, e string
		if err := frows.Scan(&id, &e); err != nil {
			t.Fatal(err)
		}
		out.dump += fmt.Sprintf("failed %s: %s\n", id, e)
	}
	frows.Close()
	res, err := s.DomainResults(ctx, "r1")
	if err != nil || len(res) != 1 {
		t.Fatalf("results: %v %v", res, err)
	}
	out.counts = res[0]
	rep, err := s.Report(ctx, "r1", 0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rep.Changes {
		out.report = append(out.report, fmt.Sprintf("%s %s %s %v %s %s %s %s", c.ExternalID, c.LocalName, c.Op, c.Fields, c.Reason, c.Result, c.Error, c.At))
	}
	slices.Sort(out.report) // the order of a batch's rows may differ: plain creations come first
	out.truncated = rep.Truncated
	return out
}

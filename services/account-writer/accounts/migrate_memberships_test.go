package accounts

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/testenv/older"
)

// TestMembershipsOfAnOlderVersionMoveToAccountIds: memberships written
// before migration 0013 (keyed by directory id) belong to the same
// accounts after it, whose ids are their old rowids; the index by group is
// there as soon as the store opens (a group filter must not read every
// membership until the next run); new accounts take later ids; and a run
// still changes an account's groups.
func TestMembershipsOfAnOlderVersionMoveToAccountIds(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "accounts.db")
	old := older.Store(t, path, "accounts", "0013")
	// Directory ids in another order than the rows'.
	for i, id := range []string{"z9", "a1", "m5"} {
		if _, err := old.ExecContext(ctx, `INSERT INTO accounts (domain, external_id, username, local_name, active, version, created_at, updated_at)
			VALUES ('corp', ?, ?, ?, 1, 10, '2026-11-01T00:00:00.000000000Z', '2026-11-01T00:00:00.000000000Z')`,
			id, fmt.Sprintf("user%d", i), fmt.Sprintf("user%d@corp", i)); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		`INSERT INTO groups (domain, external_id, name, dn, updated_at) VALUES ('corp', 'g1', 'staff', 'cn=staff', '2026-11-01T00:00:00.000000000Z'),
			('corp', 'g2', 'admins', 'cn=admins', '2026-11-01T00:00:00.000000000Z')`,
		`INSERT INTO account_groups (domain, account_id, group_id) VALUES ('corp', 'z9', 'g1'), ('corp', 'z9', 'g2'), ('corp', 'm5', 'g2')`,
	} {
		if _, err := old.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(ctx, path, Options{Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	groupsOf := func() map[string]string {
		out := map[string]string{}
		for id, a := range list(t, s) {
			out[id] = fmt.Sprint(a.Groups)
		}
		return out
	}
	if got, want := groupsOf(), map[string]string{"z9": "[admins staff]", "a1": "[]", "m5": "[admins]"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("groups after the migration: %v, want %v", got, want)
	}
	for rowid, id := range []string{"z9", "a1", "m5"} {
		var got int
		if err := s.db.QueryRowContext(ctx, `SELECT id FROM accounts WHERE external_id=?`, id).Scan(&got); err != nil || got != rowid+1 {
			t.Fatalf("account %s has id %d (%v), want its rowid %d", id, got, err, rowid+1)
		}
	}
	var indexed int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type='index' AND name='memberships_by_group'`).Scan(&indexed); err != nil || indexed != 1 {
		t.Fatalf("index of memberships by group after opening: %d (%v)", indexed, err)
	}
	p, err := s.QueryUsers(ctx, Query{Filter: `groups.display eq "admins"`, StartIndex: 1, Count: 10})
	if err != nil || p.Total != 2 {
		t.Fatalf("members of admins: %+v, %v; want z9 and m5", p, err)
	}

	// z9 leaves staff and joins ops; n1 is new, in staff.
	z9 := events.AccountChange{Op: events.OpUpdate, ExternalID: "z9", Version: 20, Fields: []string{"groups"}, Entry: &events.DirectoryEntry{ID: "z9", Username: "user0",
		GroupRefs: []events.GroupRef{{ID: "g2", Name: "admins", DN: "cn=admins"}, {ID: "g3", Name: "ops", DN: "cn=ops"}}}}
	n1 := create("n1", "nina", 20)
	n1.Entry.GroupRefs = []events.GroupRef{{ID: "g1", Name: "staff", DN: "cn=staff"}}
	b := batch(run1, "p1", z9, n1)
	if _, err := s.Stage(ctx, b.MessageID(), b); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Expect(ctx, done(run1, 1)); err != nil {
		t.Fatal(err)
	}
	if got, want := groupsOf(), map[string]string{"z9": "[admins ops]", "a1": "[]", "m5": "[admins]", "n1": "[staff]"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("groups after a run: %v, want %v", got, want)
	}
	var newID int
	if err := s.db.QueryRowContext(ctx, `SELECT id FROM accounts WHERE external_id='n1'`).Scan(&newID); err != nil || newID <= 3 {
		t.Fatalf("the new account's id is %d (%v), want one after the others'", newID, err)
	}
}

package accounts

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/adsync/adsync/internal/testenv/older"
)

// TestAccountsOfAnOlderVersionSurviveTheMoveToARowidTable: accounts
// written before migration 0007 (accounts keyed WITHOUT ROWID) are all
// there after it, field for field, and the table still refuses what it
// refused: a second account with a local name held (reported, not
// applied), a second row for one directory id (a creation of a known id
// updates it); drift is still counted.
func TestAccountsOfAnOlderVersionSurviveTheMoveToARowidTable(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "accounts.db")
	old := older.Store(t, path, "accounts", "0007")
	for _, q := range []string{
		`INSERT INTO accounts (domain, external_id, username, local_name, upn, email, display_name, given_name, surname, dn,
			active, inactive_reason, deactivated_by, local_note, directory_active, directory_reason, version, created_at, updated_at, deactivated_at, last_run_id)
			VALUES ('corp', 'a1', 'alice', 'alice@corp', 'alice@corp.example.com', 'alice@example.org', 'Alice A', 'Alice', 'A',
			'uid=alice,ou=people,dc=example,dc=org', 1, '', '', '', 1, '', 10, '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z', '', 'r0')`,
		`INSERT INTO accounts (domain, external_id, username, local_name, upn, email, display_name, given_name, surname, dn,
			active, inactive_reason, deactivated_by, local_note, directory_active, directory_reason, version, created_at, updated_at, deactivated_at, last_run_id)
			VALUES ('corp', 'b1', 'bob', 'bob@corp', '', 'bob@example.org', 'Bob B', 'Bob', 'B',
			'uid=bob,ou=people,dc=example,dc=org', 0, 'local', 'local', 'on leave', 1, '', 10, '2026-11-01T00:00:00Z', '2026-11-02T00:00:00Z', '2026-11-02T00:00:00Z', 'r0')`,
	} {
		if _, err := old.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	clock := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	s, err := Open(ctx, path, Options{Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	want := map[string]Account{
		"a1": {Domain: "corp", ExternalID: "a1", Username: "alice", LocalName: "alice@corp", UPN: "alice@corp.example.com", Email: "alice@example.org",
			DisplayName: "Alice A", GivenName: "Alice", Surname: "A", DN: "uid=alice,ou=people,dc=example,dc=org", Groups: []string{}, Active: true,
			DirectoryActive: true, CreatedAt: "2026-11-01T00:00:00.000000000Z", UpdatedAt: "2026-11-01T00:00:00.000000000Z", LastRunID: "r0"},
		"b1": {Domain: "corp", ExternalID: "b1", Username: "bob", LocalName: "bob@corp", Email: "bob@example.org",
			DisplayName: "Bob B", GivenName: "Bob", Surname: "B", DN: "uid=bob,ou=people,dc=example,dc=org", Groups: []string{},
			InactiveReason: "local", DeactivatedBy: "local", LocalNote: "on leave", DirectoryActive: true,
			CreatedAt: "2026-11-01T00:00:00.000000000Z", UpdatedAt: "2026-11-02T00:00:00.000000000Z", DeactivatedAt: "2026-11-02T00:00:00Z", LastRunID: "r0"},
	}
	got := list(t, s)
	for id := range got {
		if got[id].Groups == nil {
			a := got[id]
			a.Groups = []string{}
			got[id] = a
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("accounts after the migration:\n got %+v\nwant %+v", got, want)
	}

	// One plan: a new id that wants alice's name, a creation of bob's id.
	taker := create("c1", "alice", 20)
	again := create("b1", "bob", 20)
	again.Entry.Email = "bob@new.example.org"
	b := batch(run1, "p1", taker, again, create("d1", "dora", 20))
	if _, err := s.Stage(ctx, b.MessageID(), b); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Expect(ctx, done(run1, 1)); err != nil {
		t.Fatal(err)
	}
	got = list(t, s)
	if len(got) != 3 || got["a1"].LocalName != "alice@corp" || got["b1"].Email != "bob@new.example.org" || got["d1"].LocalName != "dora@corp" {
		t.Fatalf("after a plan: %+v", got)
	}
	if _, ok := got["c1"]; ok {
		t.Fatalf("c1 took a local name an account holds: %+v", got["c1"])
	}
	rep, err := s.Report(ctx, run1.RunID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	failed := ""
	for _, r := range rep.Changes {
		if r.ExternalID == "c1" {
			failed = r.Result + ": " + r.Error
		}
	}
	if !strings.Contains(failed, "alice@corp") {
		t.Fatalf("report of c1 = %q, want a failure naming the local name", failed)
	}
	var drift int
	if err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		drift, err = s.drift(ctx, tx, "corp")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if drift != 1 {
		t.Fatalf("drift = %d, want 1 (bob, held locally, enabled in the directory)", drift)
	}
}

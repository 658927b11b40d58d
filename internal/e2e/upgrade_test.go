package e2e

import (
	"reflect"
	"testing"
	"time"

	"github.com/adsync/adsync/internal/testenv/older"
	"github.com/adsync/adsync/internal/testenv/slapd"
	"github.com/adsync/adsync/services/account-writer/accounts"
)

// An administrator upgrades adsync: the version before the newest store
// migration syncs a directory, stops, and this version starts on the same
// data. The accounts are all there, unchanged, groups included; a run with
// no directory change changes nothing; and a changed and a deleted user
// are found as they would have been without the upgrade (the deletion
// through what the new version records of a read, on entries the older
// version recorded).
func TestAnUpgradeKeepsTheAccountsAndGoesOn(t *testing.T) {
	t.Parallel()
	older, commit := older.Adsync(t)
	t.Logf("older adsync: %s", commit)
	const n = 300
	openldap := slapd.Start(t, slapd.WithUsers(n), slapd.WithGroups(2))
	sys := Start(t, []Domain{LDAPDomain("lab", openldap)}, WithBinary(older))
	sys.MustCLI("job", "create", "lab-sync", "--all-domains", "--mode", "full",
		"--max-deactivations", "0", "--max-deactivation-percent", "0", "--max-result-drop-percent", "0")
	if c, _, _, _, _ := Counts(t, sys.MustComplete("lab-sync"), "lab"); c != n {
		t.Fatalf("the older version created %d accounts, want %d", c, n)
	}
	before := sys.Accounts("lab")
	if g := ByUsername(t, before)["user0000001"].Groups; len(g) != 2 {
		t.Fatalf("user0000001 is in groups %q before the upgrade, want 2 (the memberships must cross it)", g)
	}

	sys.Upgrade()
	if c, u, d, r, unchanged := Counts(t, sys.MustComplete("lab-sync"), "lab"); c+u+d+r != 0 || unchanged != n {
		t.Fatalf("first run after the upgrade: created %d, updated %d, deactivated %d, reactivated %d, unchanged %d; want %d unchanged",
			c, u, d, r, unchanged, n)
	}
	// Times may be written anew, at a fixed width (migration 0012): the
	// same instants, compared as times.
	if after := sys.Accounts("lab"); !reflect.DeepEqual(sameTimes(t, before), sameTimes(t, after)) {
		t.Fatalf("the accounts changed across the upgrade:\nbefore %+v\nafter  %+v", before, after)
	}

	openldap.Modify(t, "uid=user0000001,"+openldap.UsersDN, "mail", "moved@example.org")
	openldap.Delete(t, "uid=user0000002,"+openldap.UsersDN)
	if c, u, d, r, unchanged := Counts(t, sys.MustComplete("lab-sync"), "lab"); c != 0 || u != 1 || d != 1 || r != 0 || unchanged != n-2 {
		t.Fatalf("after a change and a deletion: created %d, updated %d, deactivated %d, reactivated %d, unchanged %d", c, u, d, r, unchanged)
	}
	got := ByUsername(t, sys.Accounts("lab"))
	if a := got["user0000001"]; a.Email != "moved@example.org" || !a.Active {
		t.Errorf("the changed user: %+v", a)
	}
	if a := got["user0000002"]; a.Active || a.ExternalID == "" {
		t.Errorf("the deleted user must be kept, deactivated: %+v", a)
	}
	if len(got) != n {
		t.Errorf("%d accounts, want %d (none deleted)", len(got), n)
	}
}

// sameTimes writes the accounts' times in one form, so that an upgrade
// that rewrites their representation compares equal.
func sameTimes(t *testing.T, list []accounts.Account) []accounts.Account {
	t.Helper()
	norm := func(v string) string {
		if v == "" {
			return ""
		}
		at, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			t.Fatalf("time %q: %v", v, err)
		}
		return at.UTC().Format(time.RFC3339Nano)
	}
	out := make([]accounts.Account, len(list))
	for i, a := range list {
		a.CreatedAt, a.UpdatedAt, a.DeactivatedAt = norm(a.CreatedAt), norm(a.UpdatedAt), norm(a.DeactivatedAt)
		out[i] = a
	}
	return out
}

package e2e

import (
	"reflect"
	"strings"
	"testing"

	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/internal/testenv/slapd"
	"github.com/adsync/adsync/services/account-writer/accounts"
)

// A read that breaks in the middle (the connection drops after the first
// pages) deactivates nobody and applies nothing.
func TestMidReadFailureDeactivatesNobody(t *testing.T) {
	t.Parallel()
	openldap := slapd.Start(t, slapd.WithUsers(3000))
	proxy := newCutProxy(t, strings.TrimPrefix(openldap.LDAPSURL, "ldaps://"))
	lab := LDAPDomain("lab", openldap)
	lab.URL = "ldaps://" + proxy.Addr()
	lab.PageSize = 100
	sys := Start(t, []Domain{lab})
	sys.MustCLI("job", "create", "lab-sync", "--all-domains", "--max-deactivations", "0", "--max-deactivation-percent", "0", "--max-result-drop-percent", "0")
	sys.MustComplete("lab-sync")
	before := sys.Accounts("lab")

	openldap.Modify(t, "uid=user0000001,"+openldap.UsersDN, "mail", "new@example.org")
	proxy.CutAfter(150_000) // a few pages of 100 entries, then the connection drops
	sum, err := sys.RunJob("lab-sync")
	if err == nil || sum.Outcome != "failed" {
		t.Fatalf("outcome %s err %v", sum.Outcome, err)
	}
	d := sum.Domains[0]
	if d.Deactivated != 0 || d.Created+d.Updated+d.Reactivated != 0 {
		t.Fatalf("a broken read changed accounts: %+v", d)
	}
	if !strings.Contains(d.Reason, "connection") {
		t.Errorf("reason %q does not say the connection dropped", d.Reason)
	}
	if after := sys.Accounts("lab"); !reflect.DeepEqual(before, after) {
		t.Fatal("the account store changed after a broken read")
	}
	// Once the directory answers whole again, the pending change applies.
	proxy.CutAfter(0)
	ok := sys.MustComplete("lab-sync")
	if _, u, dd, _, _ := Counts(t, ok, "lab"); u != 1 || dd != 0 {
		t.Fatalf("complete read after the broken one: %+v", ok.Domains)
	}
}

// Local holds: an account an administrator deactivated stays inactive while
// the directory has it enabled; runs count the drift until the hold is
// lifted.
func TestLocalHoldsSurviveTheSync(t *testing.T) {
	t.Parallel()
	openldap := slapd.Start(t, slapd.WithUsers(3))
	sys := Start(t, []Domain{LDAPDomain("lab", openldap)})
	sys.MustCLI("job", "create", "lab-sync", "--all-domains")
	sys.MustComplete("lab-sync")

	if r := sys.CLI("accounts", "deactivate", "user0000002@lab"); r.Err == nil {
		t.Fatal("a local deactivation without a reason was accepted")
	}
	out := sys.MustCLI("accounts", "deactivate", "user0000002@lab", "--reason", "left the company; HR ticket 4711")
	if !strings.Contains(out, "inactive (local)") {
		t.Fatalf("deactivate: %s", out)
	}
	openldap.Modify(t, "uid=user0000002,"+openldap.UsersDN, "mail", "still-here@example.org")
	sum := sys.MustComplete("lab-sync")
	if sum.Domains[0].Drift != 1 {
		t.Fatalf("drift %d, want 1", sum.Domains[0].Drift)
	}
	a := ByUsername(t, sys.Accounts("lab"))["user0000002"]
	if a.Active || a.DeactivatedBy != "local" || a.InactiveReason != "local" || a.LocalNote != "left the company; HR ticket 4711" || a.Email != "still-here@example.org" || !a.DirectoryActive {
		t.Fatalf("held account after a run: %+v", a)
	}
	var drift []accounts.Account
	if err := json.Unmarshal([]byte(sys.MustCLI("accounts", "drift", "--json")), &drift); err != nil || len(drift) != 1 || drift[0].LocalName != "user0000002@lab" {
		t.Fatalf("accounts drift: %v %+v", err, drift)
	}
	sys.MustCLI("accounts", "reactivate", "user0000002@lab")
	if a := ByUsername(t, sys.Accounts("lab"))["user0000002"]; !a.Active || a.DeactivatedBy != "" {
		t.Fatalf("after reactivate: %+v", a)
	}
	if sum := sys.MustComplete("lab-sync"); sum.Domains[0].Drift != 0 {
		t.Fatalf("drift after lifting the hold: %d", sum.Domains[0].Drift)
	}
}

// A dry run computes the whole plan and writes nothing.
func TestDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	openldap := slapd.Start(t, slapd.WithUsers(4))
	sys := Start(t, []Domain{LDAPDomain("lab", openldap)})
	// Full reads: OpenLDAP keeps no tombstones, deletions show in full reads.
	sys.MustCLI("job", "create", "lab-sync", "--all-domains", "--max-deactivation-percent", "0", "--max-result-drop-percent", "0", "--mode", "full")
	sys.MustComplete("lab-sync")
	before := sys.Accounts("lab")

	openldap.Delete(t, "uid=user0000001,"+openldap.UsersDN)
	openldap.Modify(t, "uid=user0000002,"+openldap.UsersDN, "mail", "two@example.org")
	openldap.AddUser(t, slapd.User{UID: "newbie", CN: "New Bie", Surname: "Bie"})

	r := sys.CLI("job", "run", "lab-sync", "--dry-run", "--wait")
	if r.Err != nil {
		t.Fatalf("dry run: %v\n%s", r.Err, r.Stderr)
	}
	for _, w := range []string{"would create (1):", "newbie@lab", "would update (1):", "user0000002@lab (email)", "would deactivate (1):", "user0000001@lab — directory-removed"} {
		if !strings.Contains(r.Stdout, w) {
			t.Errorf("dry run output lacks %q:\n%s", w, r.Stdout)
		}
	}
	if after := sys.Accounts("lab"); !reflect.DeepEqual(before, after) {
		t.Fatal("a dry run changed the account store")
	}
	// The real run does exactly what the dry run said.
	sum := sys.MustComplete("lab-sync")
	if c, u, d, _, _ := Counts(t, sum, "lab"); c != 1 || u != 1 || d != 1 {
		t.Fatalf("real run after the dry run: %+v", sum.Domains)
	}
}

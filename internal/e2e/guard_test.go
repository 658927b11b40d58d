package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/adsync/adsync/internal/accounts"
	"github.com/adsync/adsync/internal/testenv"
)

// held returns the domain's hold in a summary, failing if there is none.
func heldReasons(t *testing.T, sys *System, runID string) string {
	t.Helper()
	out := sys.MustCLI("run", "held")
	if !strings.Contains(out, runID) {
		t.Fatalf("run held does not list %s:\n%s", runID, out)
	}
	return out
}

func activeCount(list []accounts.Account) int {
	n := 0
	for _, a := range list {
		if a.Active {
			n++
		}
	}
	return n
}

// The deletion guard: 30% of the users removed at once is held, nothing of
// the domain is applied, new runs are refused until an administrator
// decides, and approval applies exactly the held plan.
func TestDeletionGuardHoldsThenApprovalAppliesTheHeldPlan(t *testing.T) {
	t.Parallel()
	slapd := testenv.Slapd(t, testenv.WithUsers(20))
	sys := Start(t, []Domain{LDAPDomain("lab", slapd)})
	sys.MustCLI("job", "create", "lab-sync", "--all-domains", "--mode", "full") // default limits: 500 and 10%
	sys.MustComplete("lab-sync")
	before := sys.Accounts("lab")

	for i := 1; i <= 6; i++ { // 30%
		slapd.Delete(t, fmt.Sprintf("uid=user%07d,%s", i, slapd.UsersDN))
	}
	slapd.Modify(t, fmt.Sprintf("uid=user%07d,%s", 10, slapd.UsersDN), "mail", "changed@example.org")
	sum, err := sys.RunJob("lab-sync")
	if err == nil || sum.Outcome != "held" {
		t.Fatalf("outcome %s err %v, want held and a non-zero exit", sum.Outcome, err)
	}
	d := sum.Domains[0]
	if d.Hold == nil || d.Hold.Deactivations != 6 || d.Hold.ActiveBefore != 20 || d.Created+d.Updated+d.Deactivated != 0 {
		t.Fatalf("held domain: %+v hold %+v", d, d.Hold)
	}
	if !strings.Contains(strings.Join(d.Hold.Reasons, ";"), "deactivates 6 of 20 active accounts (30.0%), more than the job's limit of 10%") {
		t.Fatalf("hold reasons %v", d.Hold.Reasons)
	}
	if after := sys.Accounts("lab"); activeCount(after) != 20 || after[9].Email != before[9].Email {
		t.Fatal("a held plan changed accounts")
	}
	heldReasons(t, sys, sum.RunID)

	// The held plan is listed account by account.
	show := sys.MustCLI("run", "show", sum.RunID)
	if strings.Count(show, "deactivate") < 6 || !strings.Contains(show, "held") {
		t.Fatalf("run show of a held plan:\n%s", show)
	}
	// No new run while a plan is held.
	rej, err := sys.RunJob("lab-sync")
	if err == nil || rej.Outcome != "rejected" || !strings.Contains(strings.Join(rej.Reasons, ""), "has a plan held by the deletion guard") {
		t.Fatalf("run while held: %+v", rej)
	}

	// Approval applies the held plan, not a new read: a user added since
	// is not created.
	slapd.AddUser(t, testenv.InetUser{UID: "latecomer", CN: "Late Comer", Surname: "Comer"})
	out := sys.MustCLI("run", "approve", sum.RunID)
	if !strings.Contains(out, "deactivated 6") || !strings.Contains(out, "updated 1") {
		t.Fatalf("approve: %s", out)
	}
	after := ByUsername(t, sys.Accounts("lab"))
	if len(after) != 20 || activeCount(sys.Accounts("lab")) != 14 {
		t.Fatalf("after approval: %d accounts, %d active", len(after), activeCount(sys.Accounts("lab")))
	}
	if _, ok := after["latecomer"]; ok {
		t.Fatal("approval read the directory again")
	}
	if a := after["user0000001"]; a.Active || a.InactiveReason != "directory-removed" {
		t.Fatalf("removed user after approval: %+v", a)
	}
	if !strings.Contains(sys.MustCLI("run", "held"), "no held plans") {
		t.Fatal("hold not lifted")
	}
	// The next run proceeds, and picks up the latecomer.
	next := sys.MustComplete("lab-sync")
	if c, _, dd, _, _ := Counts(t, next, "lab"); c != 1 || dd != 0 {
		t.Fatalf("run after approval: %+v", next.Domains)
	}
}

// A filter typo that matches nothing is held; discarding keeps every
// account as it was, and nothing of the bad read stays in diff's record.
func TestFilterTypoMatchingNothingIsHeldAndCanBeDiscarded(t *testing.T) {
	t.Parallel()
	slapd := testenv.Slapd(t, testenv.WithUsers(5))
	good := LDAPDomain("lab", slapd)
	sys := Start(t, []Domain{good})
	// Even with every limit off, an empty result is held.
	sys.MustCLI("job", "create", "lab-sync", "--all-domains", "--max-deactivations", "0", "--max-deactivation-percent", "0", "--max-result-drop-percent", "0", "--mode", "full")
	sys.MustComplete("lab-sync")

	typo := good
	typo.UserFilter = "(objectClass=inetOrgPersn)"
	sys.SetDomains(typo)
	sys.Restart()
	sum, _ := sys.RunJob("lab-sync")
	if sum.Outcome != "held" || sum.Domains[0].Hold == nil || !strings.Contains(strings.Join(sum.Domains[0].Hold.Reasons, ""), "an empty result is always held") {
		t.Fatalf("filter typo: %+v", sum)
	}
	if n := activeCount(sys.Accounts("lab")); n != 5 {
		t.Fatalf("%d active after a held empty read", n)
	}
	out := sys.MustCLI("run", "discard", sum.RunID)
	if !strings.Contains(out, "discarded") {
		t.Fatalf("discard: %s", out)
	}
	sys.SetDomains(good)
	sys.Restart()
	again := sys.MustComplete("lab-sync")
	if c, u, d, r, un := Counts(t, again, "lab"); c+u+d+r != 0 || un != 5 {
		t.Fatalf("after discard and the fix, a run changes %d/%d/%d/%d (unchanged %d)", c, u, d, r, un)
	}
	if n := activeCount(sys.Accounts("lab")); n != 5 {
		t.Fatalf("%d active", n)
	}
}

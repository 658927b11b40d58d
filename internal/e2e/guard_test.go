package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/testenv/samba"
	"github.com/adsync/adsync/internal/testenv/slapd"
	"github.com/adsync/adsync/services/account-writer/accounts"
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
	openldap := slapd.Start(t, slapd.WithUsers(20))
	sys := Start(t, []Domain{LDAPDomain("lab", openldap)})
	sys.MustCLI("job", "create", "lab-sync", "--all-domains", "--mode", "full") // default limits: 500 and 10%
	sys.MustComplete("lab-sync")
	before := sys.Accounts("lab")

	for i := 1; i <= 6; i++ { // 30%
		openldap.Delete(t, fmt.Sprintf("uid=user%07d,%s", i, openldap.UsersDN))
	}
	openldap.Modify(t, fmt.Sprintf("uid=user%07d,%s", 10, openldap.UsersDN), "mail", "changed@example.org")
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
	openldap.AddUser(t, slapd.User{UID: "latecomer", CN: "Late Comer", Surname: "Comer"})
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
	openldap := slapd.Start(t, slapd.WithUsers(5))
	good := LDAPDomain("lab", openldap)
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

// A domain whose plan is held does not stop the job's other domains: a new
// run leaves it out (reported as held, with the hold's reasons and the run
// to approve or discard first) and creates and updates the others' accounts.
// A run whose every domain is held is rejected.
func TestHeldDomainDoesNotStopTheJobsOtherDomains(t *testing.T) {
	t.Parallel()
	dc := samba.Start(t)
	ou := dc.NewOU(t)
	tag := newTag(t)
	dc.AddUsers(t, ou,
		samba.User{CN: "Ada Lovelace", SAM: "ada" + tag, Mail: "ada@corp.example.com"},
		samba.User{CN: "Alan Turing", SAM: "alan" + tag, Mail: "alan@corp.example.com"})
	openldap := slapd.Start(t, slapd.WithUsers(10))
	sys := Start(t, []Domain{ADDomain("corp", dc, ou), LDAPDomain("lab", openldap)})
	sys.MustCLI("job", "create", "both", "--all-domains", "--mode", "full")
	sys.MustCLI("job", "create", "lab-only", "--domain", "lab", "--mode", "full")
	sys.MustComplete("both")

	for i := 1; i <= 3; i++ { // 30% of lab: held
		openldap.Delete(t, fmt.Sprintf("uid=user%07d,%s", i, openldap.UsersDN))
	}
	first, err := sys.RunJob("both")
	if err == nil || first.Outcome != "held" {
		t.Fatalf("outcome %s err %v, want held", first.Outcome, err)
	}
	heldRun := first.RunID

	// The next run: corp's new user is created, lab is not read.
	dc.AddUsers(t, ou, samba.User{CN: "Grace Hopper", SAM: "grace" + tag, Mail: "grace@corp.example.com"})
	pagesBefore := sys.captured.count("adsync.directory.page.v1")
	requestsBefore := sys.captured.count("adsync.directory.requested.v1")
	sum, err := sys.RunJob("both")
	if err == nil || sum.Outcome != "held" {
		t.Fatalf("run with lab held: outcome %s err %v reasons %v", sum.Outcome, err, sum.Reasons)
	}
	byDomain := map[string]events.DomainResult{}
	for _, d := range sum.Domains {
		byDomain[d.Domain] = d
	}
	if corp := byDomain["corp"]; corp.Outcome != "completed" || corp.Created != 1 || corp.Unchanged != 2 {
		t.Fatalf("corp in the run with lab held: %+v", corp)
	}
	lab := byDomain["lab"]
	if lab.Outcome != "held" || lab.HeldBy != heldRun || lab.Entries != 0 || lab.Created+lab.Updated+lab.Deactivated+lab.Reactivated != 0 {
		t.Fatalf("lab in the run with lab held: %+v", lab)
	}
	for _, w := range []string{"skipped", "approve or discard " + heldRun + " first", "deactivates 3 of 10 active accounts"} {
		if !strings.Contains(lab.Reason, w) {
			t.Errorf("lab's reason %q does not say %q", lab.Reason, w)
		}
	}
	if !strings.Contains(strings.Join(sum.Reasons, "\n"), `domain "lab" held: skipped`) {
		t.Errorf("run reasons %v", sum.Reasons)
	}
	if n := sys.captured.count("adsync.directory.requested.v1") - requestsBefore; n != 1 {
		t.Errorf("%d domains requested, want corp only", n)
	}
	if sys.captured.count("adsync.directory.page.v1") == pagesBefore {
		t.Error("corp was not read")
	}
	if _, ok := ByUsername(t, sys.Accounts("corp"))["grace"+tag]; !ok {
		t.Fatal("corp's new user was not created while lab was held")
	}
	if n := activeCount(sys.Accounts("lab")); n != 10 {
		t.Fatalf("%d lab accounts active while its plan is held, want 10", n)
	}
	h := sys.History("both")[0]
	if h.RunID != sum.RunID || h.Outcome != "held" || len(h.Domains) != 2 {
		t.Fatalf("history: %+v", h)
	}

	// The printed summary says lab was not read and which run to decide on.
	r := sys.CLI("job", "run", "both", "--wait")
	if r.Err == nil || !strings.Contains(r.Stdout, "domain lab: held — not read") || !strings.Contains(r.Stdout, "adsync run approve "+heldRun) ||
		!strings.Contains(r.Stdout, "domain corp: completed") {
		t.Fatalf("job run --wait with lab held: %v\n%s", r.Err, r.Stdout)
	}

	// Every domain of the job held: rejected.
	rej, err := sys.RunJob("lab-only")
	if err == nil || rej.Outcome != "rejected" || !strings.Contains(strings.Join(rej.Reasons, ""), `domain "lab" has a plan held by the deletion guard (run `+heldRun) {
		t.Fatalf("run of a job whose every domain is held: %+v", rej)
	}

	// Once decided, the job runs both domains again.
	sys.MustCLI("run", "approve", heldRun)
	again := sys.MustComplete("both")
	if len(again.Domains) != 2 {
		t.Fatalf("after approval: %+v", again.Domains)
	}
	if n := activeCount(sys.Accounts("lab")); n != 7 {
		t.Fatalf("%d lab accounts active after approval, want 7", n)
	}
}

package e2e

import (
	"strings"
	"testing"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/testenv/samba"
	"github.com/adsync/adsync/internal/testenv/slapd"
)

// The deletion guard against Active Directory, in the default auto mode
// (the removals are found by a delta read, from the tombstones): 30% of the
// users deleted at once is held with the numbers, nothing of the domain is
// applied, and approval applies exactly the held plan, not a new read.
func TestDeletionGuardOnActiveDirectoryHoldsThenApprovalAppliesTheHeldPlan(t *testing.T) {
	t.Parallel()
	dc := samba.Start(t)
	ou := dc.NewOU(t)
	tag := newTag(t)
	var users []samba.User
	for _, n := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t"} {
		users = append(users, samba.User{CN: "User " + n, SAM: n + tag, Mail: n + "@corp.example.com"})
	}
	dns := dc.AddUsers(t, ou, users...)
	sys := Start(t, []Domain{ADDomain("corp", dc, ou)})
	// Default limits (500 and 10%); groups scoped to the test's OU so that
	// other tests' group changes do not force full reads.
	sys.MustCLI("job", "create", "corp-sync", "--all-domains", "--groups-base-dn", ou)
	sys.MustComplete("corp-sync")
	before := byBaseName(t, sys.Accounts("corp"), tag)

	for _, dn := range dns[:6] { // 30%
		dc.Delete(t, dn)
	}
	dc.Modify(t, dns[9], "mail", "j.changed@corp.example.com")
	sum, err := sys.RunJob("corp-sync")
	if err == nil || sum.Outcome != "held" {
		t.Fatalf("outcome %s err %v, want held and a non-zero exit", sum.Outcome, err)
	}
	d := domainResult(t, sum, "corp")
	if d.Mode != events.ModeDelta || d.Hold == nil || d.Hold.Deactivations != 6 || d.Hold.ActiveBefore != 20 || d.Created+d.Updated+d.Deactivated+d.Reactivated != 0 {
		t.Fatalf("held domain: %+v hold %+v", d, d.Hold)
	}
	if !strings.Contains(strings.Join(d.Hold.Reasons, ";"), "deactivates 6 of 20 active accounts (30.0%), more than the job's limit of 10%") {
		t.Fatalf("hold reasons %v", d.Hold.Reasons)
	}
	after := byBaseName(t, sys.Accounts("corp"), tag)
	if activeCount(sys.Accounts("corp")) != 20 || after["j"].Email != before["j"].Email {
		t.Fatal("a held plan changed accounts")
	}
	heldReasons(t, sys, sum.RunID)
	show := sys.MustCLI("run", "show", sum.RunID)
	if strings.Count(show, "deactivate") < 6 || !strings.Contains(show, "held") {
		t.Fatalf("run show of a held plan:\n%s", show)
	}
	rej, err := sys.RunJob("corp-sync")
	if err == nil || rej.Outcome != "rejected" || !strings.Contains(strings.Join(rej.Reasons, ""), "has a plan held by the deletion guard") {
		t.Fatalf("run while held: %+v", rej)
	}

	// Approval applies the held plan, not a new read: a user added since
	// is not created, a user deleted since is not deactivated.
	dc.AddUsers(t, ou, samba.User{CN: "Late Comer", SAM: "latecomer" + tag})
	dc.Delete(t, dns[19])
	out := sys.MustCLI("run", "approve", sum.RunID)
	if !strings.Contains(out, "deactivated 6") || !strings.Contains(out, "updated 1") {
		t.Fatalf("approve: %s", out)
	}
	after = byBaseName(t, sys.Accounts("corp"), tag)
	if len(after) != 20 || activeCount(sys.Accounts("corp")) != 14 {
		t.Fatalf("after approval: %d accounts, %d active", len(after), activeCount(sys.Accounts("corp")))
	}
	if _, ok := after["latecomer"]; ok {
		t.Fatal("approval read the directory again: the latecomer was created")
	}
	if !after["t"].Active {
		t.Fatal("approval read the directory again: a user deleted after the held read was deactivated")
	}
	for _, n := range []string{"a", "b", "c", "d", "e", "f"} {
		if a := after[n]; a.Active || a.InactiveReason != events.ReasonDirectoryRemoved || a.DeactivatedBy != "sync" {
			t.Fatalf("removed user %s after approval: %+v", n, a)
		}
	}
	if after["j"].Email != "j.changed@corp.example.com" {
		t.Fatalf("the held update was not applied: %+v", after["j"])
	}
	if !strings.Contains(sys.MustCLI("run", "held"), "no held plans") {
		t.Fatal("hold not lifted")
	}
	// The next run proceeds: the latecomer is created and the last removal
	// (1 of 14, under the limits) applied.
	next := sys.MustComplete("corp-sync")
	if c, _, dd, _, _ := Counts(t, next, "corp"); c != 1 || dd != 1 {
		t.Fatalf("run after approval: %+v", next.Domains)
	}
	after = byBaseName(t, sys.Accounts("corp"), tag)
	if !after["latecomer"].Active || after["t"].Active {
		t.Fatalf("after the next run: latecomer %+v t %+v", after["latecomer"], after["t"])
	}
}

// A filter typo that matches nothing in Active Directory is held, even with
// every limit off; discarding keeps every account as it was.
func TestFilterTypoOnActiveDirectoryIsHeld(t *testing.T) {
	t.Parallel()
	dc := samba.Start(t)
	ou := dc.NewOU(t)
	tag := newTag(t)
	dc.AddUsers(t, ou, samba.User{CN: "One", SAM: "one" + tag}, samba.User{CN: "Two", SAM: "two" + tag},
		samba.User{CN: "Three", SAM: "three" + tag})
	good := ADDomain("corp", dc, ou)
	sys := Start(t, []Domain{good})
	sys.MustCLI("job", "create", "corp-sync", "--all-domains", "--groups-base-dn", ou,
		"--max-deactivations", "0", "--max-deactivation-percent", "0", "--max-result-drop-percent", "0")
	sys.MustComplete("corp-sync")
	before := byID(sys.Accounts("corp"))

	typo := good
	typo.UserFilter = "(&(objectCategory=person)(objectClass=usr))"
	sys.SetDomains(typo)
	sys.Restart()
	sum, err := sys.RunJob("corp-sync")
	if err == nil || sum.Outcome != "held" {
		t.Fatalf("filter typo: outcome %s err %v", sum.Outcome, err)
	}
	d := domainResult(t, sum, "corp")
	if d.Mode != events.ModeFull || d.Hold == nil || d.Hold.Entries != 0 || d.Hold.ActiveBefore != 3 || d.Hold.Deactivations != 3 ||
		!strings.Contains(strings.Join(d.Hold.Reasons, ""), "the read returned no users, but the domain had 3 active accounts: an empty result is always held") {
		t.Fatalf("filter typo: %+v hold %+v", d, d.Hold)
	}
	if activeCount(sys.Accounts("corp")) != 3 {
		t.Fatal("a held empty read deactivated accounts")
	}
	if out := sys.MustCLI("run", "discard", sum.RunID); !strings.Contains(out, "discarded") {
		t.Fatalf("discard: %s", out)
	}
	sys.SetDomains(good)
	sys.Restart()
	again := sys.MustComplete("corp-sync")
	if d := domainResult(t, again, "corp"); d.Created+d.Updated+d.Deactivated+d.Reactivated != 0 {
		t.Fatalf("after the discard and the fix, a run changed accounts: %+v", d)
	}
	after := byID(sys.Accounts("corp"))
	for id, a := range before {
		if b := after[id]; !b.Active || b.Username != a.Username {
			t.Fatalf("account %s after the discard: %+v", a.Username, b)
		}
	}
}

// The absolute limit alone (the percentage off): 3 deactivations at the
// limit apply, 4 more are held with the numbers.
func TestDeletionGuardAbsoluteLimitOnActiveDirectory(t *testing.T) {
	t.Parallel()
	dc := samba.Start(t)
	ou := dc.NewOU(t)
	tag := newTag(t)
	var users []samba.User
	for _, n := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"} {
		users = append(users, samba.User{CN: "User " + n, SAM: n + tag})
	}
	dns := dc.AddUsers(t, ou, users...)
	sys := Start(t, []Domain{ADDomain("corp", dc, ou)})
	sys.MustCLI("job", "create", "corp-sync", "--all-domains", "--groups-base-dn", ou,
		"--max-deactivations", "3", "--max-deactivation-percent", "0", "--max-result-drop-percent", "0")
	sys.MustComplete("corp-sync")

	for _, dn := range dns[:3] {
		dc.SetDisabled(t, dn, true)
	}
	at := sys.MustComplete("corp-sync")
	if d := domainResult(t, at, "corp"); d.Deactivated != 3 || d.Hold != nil {
		t.Fatalf("3 deactivations at the limit of 3: %+v", d)
	}

	for _, dn := range dns[3:7] {
		dc.Delete(t, dn)
	}
	sum, err := sys.RunJob("corp-sync")
	if err == nil || sum.Outcome != "held" {
		t.Fatalf("4 deactivations over the limit of 3: outcome %s err %v", sum.Outcome, err)
	}
	d := domainResult(t, sum, "corp")
	if d.Hold == nil || d.Hold.Deactivations != 4 || d.Hold.ActiveBefore != 7 || len(d.Hold.Reasons) != 1 ||
		d.Hold.Reasons[0] != "the plan deactivates 4 accounts, more than the job's limit of 3" {
		t.Fatalf("held domain: %+v hold %+v", d, d.Hold)
	}
	if n := activeCount(sys.Accounts("corp")); n != 7 {
		t.Fatalf("%d active accounts after a held plan, want 7", n)
	}
	if out := sys.MustCLI("run", "approve", sum.RunID); !strings.Contains(out, "deactivated 4") {
		t.Fatalf("approve: %s", out)
	}
	if n := activeCount(sys.Accounts("corp")); n != 3 {
		t.Fatalf("%d active accounts after approval, want 3", n)
	}
}

// The last good run's result count: a full read returning more than 10%
// fewer users is held for that reason alone when the deactivation limits
// are off.
func TestDeletionGuardResultDropLimit(t *testing.T) {
	t.Parallel()
	openldap := slapd.Start(t, slapd.WithUsers(20))
	sys := Start(t, []Domain{LDAPDomain("lab", openldap)})
	sys.MustCLI("job", "create", "lab-sync", "--all-domains", "--mode", "full",
		"--max-deactivations", "0", "--max-deactivation-percent", "0") // result drop: the default 10%
	sys.MustComplete("lab-sync")

	openldap.Delete(t, "uid=user0000001,"+openldap.UsersDN)
	openldap.Delete(t, "uid=user0000002,"+openldap.UsersDN)
	at := sys.MustComplete("lab-sync") // 18 of 20: 10% fewer, the limit
	if d := domainResult(t, at, "lab"); d.Deactivated != 2 || d.Entries != 18 {
		t.Fatalf("10%% fewer users: %+v", d)
	}

	for _, u := range []string{"user0000003", "user0000004"} {
		openldap.Delete(t, "uid="+u+","+openldap.UsersDN)
	}
	sum, err := sys.RunJob("lab-sync") // 16 of 18: 11.1% fewer
	if err == nil || sum.Outcome != "held" {
		t.Fatalf("11%% fewer users: outcome %s err %v", sum.Outcome, err)
	}
	d := domainResult(t, sum, "lab")
	if d.Hold == nil || d.Hold.Entries != 16 || d.Hold.LastGoodEntries != 18 || d.Hold.Deactivations != 2 || len(d.Hold.Reasons) != 1 ||
		d.Hold.Reasons[0] != "the read returned 16 users, 11.1% fewer than the 18 of the last good run (limit 10%)" {
		t.Fatalf("held domain: %+v hold %+v", d, d.Hold)
	}
	if !strings.Contains(sys.MustCLI("job", "history", "lab-sync"), "11.1% fewer") {
		t.Error("job history does not show the hold's reason")
	}
	if n := activeCount(sys.Accounts("lab")); n != 18 {
		t.Fatalf("%d active accounts after a held plan, want 18", n)
	}
}

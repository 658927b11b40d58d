package e2e

import (
	"reflect"
	"testing"
	"time"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/testenv/samba"
	"github.com/adsync/adsync/internal/testenv/slapd"
	"github.com/adsync/adsync/services/account-writer/accounts"
)

// checkLeaverRun checks the run after a leaver was disabled and moved out
// of the synced OU in one step: a delta read that deactivated the leaver
// (out of scope) and changed nothing else; a full run then finds nothing to
// do.
func checkLeaverRun(t *testing.T, sys *System, job, domain string, before map[string]accounts.Account, leaverID string, sum func() events.DomainResult) {
	t.Helper()
	d := sum()
	if d.Mode != events.ModeDelta || d.Deactivated != 1 || d.Created+d.Updated+d.Reactivated != 0 {
		t.Fatalf("leaver run: %+v, want a delta read that deactivates one account and changes nothing else", d)
	}
	after := byID(sys.Accounts(domain))
	leaver := after[leaverID]
	if leaver.Active || leaver.InactiveReason != events.ReasonOutOfScope || leaver.DeactivatedBy != "sync" {
		t.Fatalf("leaver after the delta run: active=%v reason=%q by=%q, want inactive, out-of-scope, by sync", leaver.Active, leaver.InactiveReason, leaver.DeactivatedBy)
	}
	for id, a := range before {
		if id == leaverID {
			continue
		}
		if !reflect.DeepEqual(a, after[id]) {
			t.Errorf("account %s changed: %+v -> %+v", a.Username, a, after[id])
		}
	}
	full, err := sys.RunJob(job, "--mode", "full")
	if err != nil {
		t.Fatal(err)
	}
	if fd := domainResult(t, full, domain); fd.Created+fd.Updated+fd.Deactivated+fd.Reactivated != 0 {
		t.Fatalf("a full run after the delta run still changed accounts: %+v", fd)
	}
	if !reflect.DeepEqual(after, byID(sys.Accounts(domain))) {
		t.Fatal("the full run ends in other accounts than the delta run")
	}
}

// The common leaver workflow on Active Directory: disable the account and
// move it to a Leavers OU outside the synced OU. The next delta run
// deactivates it.
func TestLeaverMovedOutOfScopeOnActiveDirectory(t *testing.T) {
	t.Parallel()
	dc := samba.Start(t)
	ou, leavers := dc.NewOU(t), dc.NewOU(t)
	tag := newTag(t)
	dns := dc.AddUsers(t, ou, samba.User{CN: "Stay A", SAM: "staya" + tag}, samba.User{CN: "Stay B", SAM: "stayb" + tag},
		samba.User{CN: "Leaver", SAM: "leaver" + tag})
	sys := Start(t, []Domain{ADDomain("corp", dc, ou)})
	sys.MustCLI("job", "create", "corp-sync", "--all-domains", "--groups-base-dn", ou, "--max-deactivation-percent", "0", "--max-result-drop-percent", "0")
	if m := domainResult(t, sys.MustComplete("corp-sync"), "corp").Mode; m != events.ModeFull {
		t.Fatalf("first run: %s read, want full", m)
	}
	before := byID(sys.Accounts("corp"))
	leaverID := dc.GUID(t, dns[2])

	dc.SetDisabled(t, dns[2], true)
	dc.Move(t, dns[2], leavers)
	run := sys.MustComplete("corp-sync")
	checkLeaverRun(t, sys, "corp-sync", "corp", before, leaverID, func() events.DomainResult { return domainResult(t, run, "corp") })
}

// The same on OpenLDAP: the leaver is disabled (disabled_filter) and moved
// out of the users' OU.
func TestLeaverMovedOutOfScopeOnOpenLDAP(t *testing.T) {
	t.Parallel()
	openldap := slapd.Start(t)
	leavers := openldap.AddOU(t, "leavers")
	var dns []string
	for _, uid := range []string{"staya", "stayb", "leaver"} {
		dns = append(dns, openldap.AddUser(t, slapd.User{UID: uid, Mail: uid + "@example.org"}))
	}
	lab := LDAPDomain("lab", openldap)
	lab.DisabledFilter = "(employeeType=disabled)"
	sys := Start(t, []Domain{lab}, WithDomainYAML("lab", "    delta_overlap: 1s\n"))
	sys.MustCLI("job", "create", "lab-sync", "--all-domains", "--max-deactivation-percent", "0", "--max-result-drop-percent", "0")
	// modifyTimestamp has one-second precision, and the watermark is taken
	// before a read less the overlap: the additions age past it.
	start := time.Now()
	waitFor(t, "the entries to age past the overlap", 5*time.Second, func() bool { return time.Since(start) > 2100*time.Millisecond })
	sys.MustComplete("lab-sync")
	before := byID(sys.Accounts("lab"))
	leaverID := openldap.EntryUUID(t, dns[2])

	openldap.Modify(t, dns[2], "employeeType", "disabled")
	openldap.Move(t, dns[2], leavers)
	run := sys.MustComplete("lab-sync")
	checkLeaverRun(t, sys, "lab-sync", "lab", before, leaverID, func() events.DomainResult { return domainResult(t, run, "lab") })
}

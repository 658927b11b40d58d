package e2e

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/testenv/samba"
	"github.com/adsync/adsync/internal/testenv/slapd"
	"github.com/adsync/adsync/services/account-writer/accounts"
)

// byID indexes accounts by directory id, without the run that last wrote
// them (a delta and a full run may end in the same state written by
// different runs).
func byID(list []accounts.Account) map[string]accounts.Account {
	m := map[string]accounts.Account{}
	for _, a := range list {
		a.LastRunID, a.UpdatedAt = "", ""
		m[a.ExternalID] = a
	}
	return m
}

// Delta sync against Active Directory: uSNChanged since the watermark,
// tombstones for deletions, a full read when groups changed or the DC's
// invocationId differs; a delta run ends in the same accounts as a full run.
func TestDeltaSyncAgainstActiveDirectory(t *testing.T) {
	t.Parallel()
	dc := samba.Start(t)
	ou := dc.NewOU(t)
	tag := newTag(t)
	var users []samba.User
	for _, n := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"} {
		users = append(users, samba.User{CN: "User " + n, SAM: n + tag, Mail: n + "@corp.example.com"})
	}
	dns := dc.AddUsers(t, ou, users...)
	sys := Start(t, []Domain{ADDomain("corp", dc, ou)})
	// Groups scoped to the test's OU: other groups of the shared domain
	// change all the time (as in a busy real one), and only a change of a
	// synced group needs a full read.
	sys.MustCLI("job", "create", "corp-sync", "--all-domains", "--max-deactivation-percent", "0", "--max-result-drop-percent", "0",
		"--groups-base-dn", ou)

	first := sys.MustComplete("corp-sync")
	if m := domainResult(t, first, "corp").Mode; m != events.ModeFull {
		t.Fatalf("first run: %s read, want full", m)
	}

	// 1 changed, 1 disabled, 1 deleted: a delta read sees exactly those.
	dc.Modify(t, dns[0], "mail", "a.changed@corp.example.com")
	dc.SetDisabled(t, dns[1], true)
	dc.Delete(t, dns[2])
	delta := sys.MustComplete("corp-sync")
	d := domainResult(t, delta, "corp")
	if d.Mode != events.ModeDelta || d.Entries != 2 || d.Updated != 1 || d.Deactivated != 2 || d.Created != 0 {
		t.Fatalf("delta run: %+v", d)
	}
	acc := byBaseName(t, sys.Accounts("corp"), tag)
	if acc["a"].Email != "a.changed@corp.example.com" || acc["b"].InactiveReason != "directory-disabled" || acc["c"].InactiveReason != "directory-removed" {
		t.Fatalf("after delta: a=%+v b=%+v c=%+v", acc["a"], acc["b"], acc["c"])
	}
	afterDelta := byID(sys.Accounts("corp"))
	// A full run finds nothing more to do: same accounts as the delta run.
	full, err := sys.RunJob("corp-sync", "--mode", "full")
	if err != nil {
		t.Fatal(err)
	}
	fd := domainResult(t, full, "corp")
	if fd.Mode != events.ModeFull || fd.Created+fd.Updated+fd.Deactivated+fd.Reactivated != 0 {
		t.Fatalf("full run after the delta run changed: %+v", fd)
	}
	if !reflect.DeepEqual(afterDelta, byID(sys.Accounts("corp"))) {
		t.Fatal("a full run ends in other accounts than the delta run")
	}

	// Only a deletion: the delta read finds no changed user, and the
	// tombstone (read alongside the users) still deactivates its account.
	dc.Delete(t, dns[4])
	gone := domainResult(t, sys.MustComplete("corp-sync"), "corp")
	if gone.Mode != events.ModeDelta || gone.Entries != 0 || gone.Deactivated != 1 || gone.Updated+gone.Created != 0 {
		t.Fatalf("delta run after a deletion only: %+v", gone)
	}
	if e := byBaseName(t, sys.Accounts("corp"), tag)["e"]; e.Active || e.InactiveReason != "directory-removed" {
		t.Fatalf("after a deletion only: e=%+v", e)
	}

	// A changed group needs a full read (memberOf is a back-link).
	g := dc.AddGroup(t, ou, "Team-"+tag)
	dc.AddMember(t, g, dns[3])
	grp := sys.MustComplete("corp-sync")
	if gd := domainResult(t, grp, "corp"); gd.Mode != events.ModeFull || gd.Joined != 1 {
		t.Fatalf("after a group change: %+v", gd)
	}

	// Another DC (a different invocationId) forces a full read.
	w, save := savedMark(t, sys, "corp")
	w.InvocationID = "00000000-0000-0000-0000-000000000001"
	save(w)
	restored := sys.MustComplete("corp-sync")
	if rd := domainResult(t, restored, "corp"); rd.Mode != events.ModeFull {
		t.Fatalf("with a foreign invocationId: %s read", rd.Mode)
	}
	if !strings.Contains(readLog(t, sys), "invocationId changed") {
		t.Error("the log does not say why the read was full")
	}
}

// Delta sync against OpenLDAP: modifyTimestamp since the watermark.
func TestDeltaSyncAgainstOpenLDAP(t *testing.T) {
	t.Parallel()
	openldap := slapd.Start(t, slapd.WithUsers(50))
	sys := Start(t, []Domain{LDAPDomain("lab", openldap)}, WithDomainYAML("lab", "    delta_overlap: 1s\n"))
	sys.MustCLI("job", "create", "lab-sync", "--all-domains")
	// modifyTimestamp has one-second precision and the watermark is taken
	// before a read minus the overlap: let the loaded entries age past it.
	start := time.Now()
	waitFor(t, "the entries to age past the overlap", 5*time.Second, func() bool { return time.Since(start) > 2100*time.Millisecond })
	sys.MustComplete("lab-sync")
	openldap.Modify(t, "uid=user0000007,"+openldap.UsersDN, "mail", "seven@example.org")
	sum := sys.MustComplete("lab-sync")
	d := domainResult(t, sum, "lab")
	if d.Mode != events.ModeDelta || d.Entries != 1 || d.Updated != 1 {
		t.Fatalf("delta run: %+v", d)
	}
}

func readLog(t *testing.T, sys *System) string {
	t.Helper()
	raw, err := readFile(sys.Dir + "/adsync.log")
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

package e2e

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/testenv/samba"
)

// adFileTime formats t as accountExpires (100-ns ticks since 1601-01-01 UTC).
func adFileTime(t time.Time) string {
	const epochOffset = 11644473600 // seconds from 1601-01-01 to 1970-01-01
	return strconv.FormatInt((t.Unix()+epochOffset)*10_000_000+int64(t.Nanosecond())/100, 10)
}

// An account expiring changes nothing in AD (not its uSNChanged): a delta
// read still finds it, because it also reads the users whose accountExpires
// passed since the watermark, and only those. It looks for them only once
// the earliest expiry the last read saw has passed: the saved watermark
// holds it. The system's clock is advanced past the expiry (adsync judges
// accountExpires by its clock).
func TestDeltaSyncDeactivatesExpiredAccountsAgainstActiveDirectory(t *testing.T) {
	t.Parallel()
	dc := samba.Start(t)
	ou := dc.NewOU(t)
	tag := newTag(t)
	sys := Start(t, []Domain{ADDomain("corp", dc, ou)})
	now := sys.Clock.Now().Truncate(time.Second)
	users := []samba.User{
		{CN: "Soon", SAM: "soon" + tag, AccountExpires: now.Add(time.Hour)},
		{CN: "Later", SAM: "later" + tag, AccountExpires: now.Add(30 * 24 * time.Hour)},
		{CN: "Never", SAM: "never" + tag},
		{CN: "Past", SAM: "past" + tag, AccountExpires: now.Add(-48 * time.Hour)},
	}
	dns := dc.AddUsers(t, ou, users...)
	// Groups scoped to the test's OU (other tests change groups of the
	// shared domain, which would force full reads); the percentage limits
	// are off: one of three active accounts expires.
	sys.MustCLI("job", "create", "corp-sync", "--all-domains", "--groups-base-dn", ou,
		"--max-deactivation-percent", "0", "--max-result-drop-percent", "0")

	first := sys.MustComplete("corp-sync")
	if d := domainResult(t, first, "corp"); d.Mode != events.ModeFull || d.Created != len(users) {
		t.Fatalf("first run: %+v", d)
	}
	nextExpiry := func(want time.Time) {
		t.Helper()
		if w, _ := savedMark(t, sys, "corp"); !w.ExpiriesKnown || !w.NextExpiry.Equal(want) {
			t.Fatalf("saved watermark: next expiry known %t, %v; want %v", w.ExpiriesKnown, w.NextExpiry, want)
		}
	}
	nextExpiry(users[0].AccountExpires)
	acc := byBaseName(t, sys.Accounts("corp"), tag)
	if !acc["soon"].Active || !acc["later"].Active || !acc["never"].Active || acc["past"].Active || acc["past"].InactiveReason != events.ReasonExpired {
		t.Fatalf("after the full run: soon=%+v later=%+v never=%+v past=%+v", acc["soon"], acc["later"], acc["never"], acc["past"])
	}

	// "soon" expires; nothing changes in the directory.
	sys.Clock.Advance(2 * time.Hour)
	expired := sys.MustComplete("corp-sync")
	d := domainResult(t, expired, "corp")
	if d.Mode != events.ModeDelta || d.Entries != 1 || d.Deactivated != 1 || d.Created+d.Updated+d.Reactivated != 0 {
		t.Fatalf("delta run after the expiry: %+v", d)
	}
	acc = byBaseName(t, sys.Accounts("corp"), tag)
	if s := acc["soon"]; s.Active || s.InactiveReason != events.ReasonExpired || s.DeactivatedBy != "sync" {
		t.Fatalf("expired account after the delta run: %+v", s)
	}
	if !acc["later"].Active || !acc["never"].Active {
		t.Fatalf("other accounts after the delta run: later=%+v never=%+v", acc["later"], acc["never"])
	}
	nextExpiry(users[1].AccountExpires) // "later", read but not delivered
	lookedForExpired(t, sys, expired.RunID, true)

	// Nothing expired since: the next delta read reads nothing.
	again := sys.MustComplete("corp-sync")
	if d := domainResult(t, again, "corp"); d.Mode != events.ModeDelta || d.Entries != 0 || d.Deactivated+d.Reactivated+d.Updated != 0 {
		t.Fatalf("delta run without change: %+v", d)
	}
	lookedForExpired(t, sys, again.RunID, false) // "later" expires in 30 days

	// The expiry extended (uSNChanged changes): reactivated by a delta read.
	extendedTo := sys.Clock.Now().Add(24 * time.Hour).Truncate(time.Second)
	dc.Modify(t, dns[0], "accountExpires", adFileTime(extendedTo))
	extended := sys.MustComplete("corp-sync")
	if d := domainResult(t, extended, "corp"); d.Mode != events.ModeDelta || d.Entries != 1 || d.Reactivated != 1 || d.Deactivated != 0 {
		t.Fatalf("delta run after extending the expiry: %+v", d)
	}
	acc = byBaseName(t, sys.Accounts("corp"), tag)
	if s := acc["soon"]; !s.Active || s.InactiveReason != "" {
		t.Fatalf("account after its expiry was extended: %+v", s)
	}
	nextExpiry(extendedTo)

	// A full read agrees with the delta reads.
	afterDelta := byID(sys.Accounts("corp"))
	full, err := sys.RunJob("corp-sync", "--mode", "full")
	if err != nil {
		t.Fatal(err)
	}
	if fd := domainResult(t, full, "corp"); fd.Mode != events.ModeFull || fd.Created+fd.Updated+fd.Deactivated+fd.Reactivated != 0 {
		t.Fatalf("full run after the delta runs changed: %+v", fd)
	}
	if !reflect.DeepEqual(afterDelta, byID(sys.Accounts("corp"))) {
		t.Fatal("a full run ends in other accounts than the delta runs")
	}
}

// lookedForExpired checks what the reader's log says of a run: whether its
// delta read looked for expired users.
func lookedForExpired(t *testing.T, sys *System, runID string, want bool) {
	t.Helper()
	for _, line := range strings.Split(readLog(t, sys), "\n") {
		if strings.Contains(line, `msg="directory read"`) && strings.Contains(line, "run_id="+runID+" ") {
			if !strings.Contains(line, "looked_for_expired="+strconv.FormatBool(want)+" ") {
				t.Fatalf("run %s: the reader's log says %s; want looked_for_expired=%t", runID, line, want)
			}
			return
		}
	}
	t.Fatalf("run %s: no \"directory read\" line in the log", runID)
}

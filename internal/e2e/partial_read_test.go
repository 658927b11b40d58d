package e2e

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/testenv/samba"
	"github.com/adsync/adsync/internal/testenv/slapd"
)

// pagesRead waits until the system has published at least min
// directory.page events of a run's domain and returns how many it
// published and their entries: the proof that a failed read broke after
// its first pages, not before (the reader publishes an event once it holds
// 1000 entries and the next one arrives).
func pagesRead(t *testing.T, sys *System, runID, domain string, min int) (pages, entries int) {
	t.Helper()
	subject := events.SubjectOf((events.DirectoryPage{}).EventName())
	waitFor(t, "the pages read before the failure", time.Minute, func() bool {
		sys.captured.mu.Lock()
		defer sys.captured.mu.Unlock()
		pages, entries = 0, 0
		for _, m := range sys.captured.msgs {
			var p events.DirectoryPage
			if m.Subject != subject || json.Unmarshal(m.Data, &p) != nil || p.RunID != runID || p.Domain != domain {
				continue
			}
			pages++
			entries += len(p.Entries)
		}
		return pages >= min
	})
	return pages, entries
}

// eventsOf1000: directory.page events of 1000 entries, so that the
// entries read before a failure fill one.
var eventsOf1000 = WithConfig("directory_reader:\n  entries_per_event: 1000\n")

// A server-side limit stops the read after the first pages: slapd's
// size.prtotal limit of the bind account ends the paged search with
// sizeLimitExceeded after 1500 of 3000 users (15 pages of 100). The run fails, naming the
// limit; nobody is deactivated, no account changes; once the read is
// whole again (an account without the limit), the pending changes apply.
func TestServerSizeLimitMidReadDeactivatesNobody(t *testing.T) {
	t.Parallel()
	openldap := slapd.Start(t, slapd.WithUsers(3000), slapd.WithReader("size.prtotal=1500"))
	admin := LDAPDomain("lab", openldap)
	admin.PageSize = 100
	limited := admin
	limited.BindDN, limited.PasswordFile = openldap.ReaderDN, openldap.ReaderPasswordFile
	sys := Start(t, []Domain{admin}, eventsOf1000)
	// No deletion guard limits: only the partial read must stop the deactivations.
	sys.MustCLI("job", "create", "lab-sync", "--all-domains", "--mode", "full", "--max-deactivations", "0", "--max-deactivation-percent", "0", "--max-result-drop-percent", "0")
	sys.MustComplete("lab-sync")
	before := sys.Accounts("lab")

	openldap.Modify(t, "uid=user0000001,"+openldap.UsersDN, "mail", "new@example.org")
	openldap.Delete(t, "uid=user0000002,"+openldap.UsersDN)
	sys.SetDomains(limited)
	sys.Restart()
	sum, err := sys.RunJob("lab-sync")
	if err == nil || sum.Outcome != "failed" {
		t.Fatalf("outcome %s err %v", sum.Outcome, err)
	}
	d := domainResult(t, sum, "lab")
	if d.Deactivated != 0 || d.Created+d.Updated+d.Reactivated != 0 {
		t.Fatalf("a read cut by the size limit changed accounts: %+v", d)
	}
	if !strings.Contains(strings.ToLower(d.Reason), "size limit") {
		t.Errorf("reason %q does not name the size limit", d.Reason)
	}
	if pages, entries := pagesRead(t, sys, sum.RunID, "lab", 1); pages != 1 || entries != 1000 {
		t.Fatalf("the read before the limit: %d events, %d entries; want the first 1000 entries published", pages, entries)
	}
	if after := sys.Accounts("lab"); !reflect.DeepEqual(before, after) {
		t.Fatal("the account store changed after a read cut by the size limit")
	}

	sys.SetDomains(admin)
	sys.Restart()
	ok := sys.MustComplete("lab-sync")
	if _, u, dd, _, _ := Counts(t, ok, "lab"); u != 1 || dd != 1 {
		t.Fatalf("complete read after the limited one: %+v", ok.Domains)
	}
}

// The connection to the Samba AD DC drops in the middle of a paged read
// of more than 1000 users (a proxy in front of its LDAPS port cuts every
// connection after a few pages; the DC itself is shared and keeps
// running): the run fails saying the connection was lost, nobody is
// deactivated, no account changes, and the next run completes.
func TestMidReadFailureOnActiveDirectoryDeactivatesNobody(t *testing.T) {
	t.Parallel()
	dc := samba.Start(t)
	const n = 1200
	ou := dc.BulkOU(t, n) // read-only, shared by the tests
	proxy := newCutProxy(t, strings.TrimPrefix(dc.LDAPSURL, "ldaps://"))
	corp := ADDomain("corp", dc, ou)
	corp.URL = "ldaps://" + proxy.Addr()
	corp.PageSize = 100
	sys := Start(t, []Domain{corp}, eventsOf1000)
	// Full reads (a delta read of an unchanged OU would read nothing), and
	// no deletion guard limits: only the broken read must stop the deactivations.
	sys.MustCLI("job", "create", "corp-sync", "--all-domains", "--mode", "full", "--groups-base-dn", ou,
		"--max-deactivations", "0", "--max-deactivation-percent", "0", "--max-result-drop-percent", "0")
	if c, _, _, _, _ := Counts(t, sys.MustComplete("corp-sync"), "corp"); c != n {
		t.Fatalf("first run created %d accounts, want %d", c, n)
	}
	before := sys.Accounts("corp")

	// Cut every connection once the DC has sent 92% of what the complete
	// read took: about 1100 of the 1200 users (11 pages of 100) are read,
	// then the connection drops.
	proxy.CutAfter(proxy.Largest() * 92 / 100)
	sum, err := sys.RunJob("corp-sync")
	if err == nil || sum.Outcome != "failed" {
		t.Fatalf("outcome %s err %v", sum.Outcome, err)
	}
	d := domainResult(t, sum, "corp")
	if pages, entries := pagesRead(t, sys, sum.RunID, "corp", 1); pages != 1 || entries != 1000 {
		t.Fatalf("the read before the drop: %d events, %d entries; want the first 1000 entries published", pages, entries)
	}
	if d.Deactivated != 0 || d.Created+d.Updated+d.Reactivated != 0 {
		t.Fatalf("a broken read changed accounts: %+v", d)
	}
	if !strings.Contains(d.Reason, "connection") {
		t.Errorf("reason %q does not say the connection dropped", d.Reason)
	}
	if after := sys.Accounts("corp"); !reflect.DeepEqual(before, after) {
		t.Fatal("the account store changed after a broken read")
	}

	proxy.CutAfter(0)
	ok := sys.MustComplete("corp-sync")
	if c, u, dd, r, unchanged := Counts(t, ok, "corp"); c+u+dd+r != 0 || unchanged != n {
		t.Fatalf("complete read after the broken one: %+v", ok.Domains)
	}
	if after := sys.Accounts("corp"); len(after) != n {
		t.Fatalf("%d accounts, want %d", len(after), n)
	}
}

// A domain's first sync creates the accounts of each page as it reads
// (accounts.stream_first_sync, on by default). When its read is cut short
// (the size limit above, from the first run on), the accounts of the
// pages read before stay, the run says so, and the next complete read
// creates only the rest. With stream_first_sync off, the same failure
// applies nothing, as any failed run.
func TestAFirstSyncCutShortKeepsWhatItCreated(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name        string
		config      string
		createdHere int
	}{
		{"applied as it reads", "", 1000},
		{"applied whole", "accounts:\n  stream_first_sync: false\n", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			const users = 3000
			openldap := slapd.Start(t, slapd.WithUsers(users), slapd.WithReader("size.prtotal=1500"))
			admin := LDAPDomain("lab", openldap)
			admin.PageSize = 100
			limited := admin
			limited.BindDN, limited.PasswordFile = openldap.ReaderDN, openldap.ReaderPasswordFile
			sys := Start(t, []Domain{limited}, eventsOf1000, WithConfig(tt.config))
			sys.MustCLI("job", "create", "lab-sync", "--all-domains", "--mode", "full")
			sum, err := sys.RunJob("lab-sync")
			if err == nil || sum.Outcome != "failed" {
				t.Fatalf("outcome %s err %v", sum.Outcome, err)
			}
			if pages, entries := pagesRead(t, sys, sum.RunID, "lab", 1); pages != 1 || entries != 1000 {
				t.Fatalf("the read before the limit: %d events, %d entries; want the first 1000 entries published", pages, entries)
			}
			d := domainResult(t, sum, "lab")
			if d.Created != tt.createdHere || d.Deactivated+d.Updated+d.Reactivated != 0 {
				t.Fatalf("the cut first sync: %+v, want %d created and nothing else", d, tt.createdHere)
			}
			if !strings.Contains(strings.ToLower(d.Reason), "size limit") {
				t.Errorf("reason %q does not name the size limit", d.Reason)
			}
			if said := strings.Contains(d.Reason, "applied as they were read"); said != (tt.createdHere > 0) {
				t.Errorf("reason %q: says the accounts read before were kept: %v, want %v", d.Reason, said, tt.createdHere > 0)
			}
			if n := len(sys.Accounts("lab")); n != tt.createdHere {
				t.Fatalf("%d accounts after the cut first sync, want %d", n, tt.createdHere)
			}

			sys.SetDomains(admin)
			sys.Restart()
			ok := sys.MustComplete("lab-sync")
			if c, u, dd, r, un := Counts(t, ok, "lab"); c != users-tt.createdHere || u+dd+r != 0 || un != tt.createdHere {
				t.Fatalf("the complete read after it: created %d, updated %d, deactivated %d, reactivated %d, unchanged %d; want %d created, %d unchanged",
					c, u, dd, r, un, users-tt.createdHere, tt.createdHere)
			}
			if n := len(sys.Accounts("lab")); n != users {
				t.Fatalf("%d accounts after the complete read, want %d", n, users)
			}
		})
	}
}

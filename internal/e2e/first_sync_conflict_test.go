package e2e

import (
	"strings"
	"testing"

	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/internal/testenv/slapd"
	"github.com/adsync/adsync/services/account-writer/accounts"
)

// Two directory users with one username in a store's very first sync,
// pages apart: the first sync goes without the unique indexes, and still
// one of them gets the local name, the other's creation fails and is
// listed, and the run after it fails it again rather than create it.
func TestAFirstSyncNeverGivesOneLocalNameTwice(t *testing.T) {
	t.Parallel()
	openldap := slapd.Start(t)
	tag := newTag(t)
	name := "same" + tag
	first := openldap.AddUser(t, slapd.User{UID: name, CN: "Same One", Mail: "one@lab.example.org"})
	openldap.AddUser(t, slapd.User{UID: "fill1" + tag})
	openldap.AddUser(t, slapd.User{UID: "fill2" + tag})
	// The same uid under another RDN: OpenLDAP does not keep uids unique.
	second := "cn=Same Two," + openldap.UsersDN
	openldap.AddEntry(t, second, map[string][]string{"objectClass": {"top", "person", "organizationalPerson", "inetOrgPerson"},
		"cn": {"Same Two"}, "sn": {"Two"}, "uid": {name}, "mail": {"two@lab.example.org"}})
	ids := map[string]bool{openldap.EntryUUID(t, first): true, openldap.EntryUUID(t, second): true}

	// One user a page: the two come in different pages, whatever order
	// slapd hands them out in.
	sys := Start(t, []Domain{LDAPDomain("lab", openldap)}, WithConfig("directory_reader:\n  entries_per_event: 1\n"))
	sys.MustCLI("job", "create", "all", "--all-domains", "--max-deactivation-percent", "0", "--max-result-drop-percent", "0")
	for run := 1; run <= 2; run++ {
		sum, err := sys.RunJob("all")
		if sum.RunID == "" {
			t.Fatalf("run %d: %v", run, err)
		}
		if d := domainResult(t, sum, "lab"); d.Failed != 1 || run == 1 && d.Created != 3 || run == 2 && d.Created != 0 {
			t.Fatalf("run %d: %+v, want 1 failed and 3 created in the first run", run, d)
		}
		var holder accounts.Account
		n := 0
		for _, a := range sys.Accounts("lab") {
			if a.LocalName == name+"@lab" {
				holder, n = a, n+1
			}
		}
		if n != 1 || !ids[holder.ExternalID] || !holder.Active {
			t.Fatalf("run %d: %d accounts named %s@lab (%+v), want one of the two users", run, n, name, holder)
		}
		var rep accounts.RunReport
		if err := json.Unmarshal([]byte(sys.MustCLI("run", "show", sum.RunID, "--json")), &rep); err != nil {
			t.Fatal(err)
		}
		var failed []accounts.Change
		for _, c := range rep.Changes {
			if c.Result == "failed" {
				failed = append(failed, c)
			}
		}
		if len(failed) != 1 || failed[0].ExternalID == holder.ExternalID || !ids[failed[0].ExternalID] ||
			!strings.Contains(failed[0].Error, "belongs to another account (directory id "+holder.ExternalID) {
			t.Fatalf("run %d: failed changes %+v, want the other user's, naming %s", run, failed, holder.ExternalID)
		}
	}
}

package e2e

import (
	"strings"
	"testing"

	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/cli"
	"github.com/adsync/adsync/internal/testenv/samba"
	"github.com/adsync/adsync/internal/testenv/slapd"
	"github.com/adsync/adsync/services/account-writer/accounts"
)

// Identity: a renamed user is an update of the same account; the same
// username in two domains gives two accounts; a new directory user never
// takes over the local name of another account.
func TestIdentityRenamesAndCollisions(t *testing.T) {
	t.Parallel()
	dc := samba.Start(t)
	ou := dc.NewOU(t)
	tag := newTag(t)
	dns := dc.AddUsers(t, ou,
		samba.User{CN: "Renee", SAM: "renee" + tag, Mail: "renee@corp.example.com"},
		samba.User{CN: "Dup", SAM: "dup" + tag},
		samba.User{CN: "Twin", SAM: "twin" + tag})
	openldap := slapd.Start(t)
	openldap.AddUser(t, slapd.User{UID: "dup" + tag, CN: "Dup In Lab", Surname: "Lab"})

	sys := Start(t, []Domain{ADDomain("corp", dc, ou), LDAPDomain("lab", openldap)})
	sys.MustCLI("job", "create", "all", "--all-domains", "--max-deactivation-percent", "0", "--max-result-drop-percent", "0")
	sys.MustComplete("all")
	all := sys.Accounts("")
	names := map[string]accounts.Account{}
	for _, a := range all {
		names[a.LocalName] = a
	}
	corpDup, labDup := names["dup"+tag+"@corp"], names["dup"+tag+"@lab"]
	if corpDup.ExternalID == "" || labDup.ExternalID == "" || corpDup.ExternalID == labDup.ExternalID {
		t.Fatalf("same username in two domains: %v", names)
	}

	// Renamed in AD: same objectGUID, new sAMAccountName → an update.
	renee := names["renee"+tag+"@corp"]
	dc.Rename(t, dns[0], "rene"+tag)
	sum := sys.MustComplete("all")
	if c, u, d, _, _ := Counts(t, sum, "corp"); c != 0 || u != 1 || d != 0 {
		t.Fatalf("rename: created %d updated %d deactivated %d", c, u, d)
	}
	got := ByUsername(t, sys.Accounts("corp"))["rene"+tag]
	if got.ExternalID != renee.ExternalID || got.LocalName != "rene"+tag+"@corp" || !got.Active {
		t.Fatalf("renamed account: %+v (was %+v)", got, renee)
	}

	// A user deleted and created again under the same name is another
	// directory identity: it does not take over the old account.
	twin := names["twin"+tag+"@corp"]
	dc.Delete(t, dns[2])
	dc.AddUsers(t, ou, samba.User{CN: "Twin Again", SAM: "twin" + tag})
	sum, err := sys.RunJob("all")
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	d := domainResult(t, sum, "corp")
	if d.Failed != 1 || d.Deactivated != 1 {
		t.Fatalf("recreated user: %+v", d)
	}
	old := ByUsername(t, sys.Accounts("corp"))["twin"+tag]
	if old.ExternalID != twin.ExternalID || old.Active || old.InactiveReason != "directory-removed" {
		t.Fatalf("the old account: %+v", old)
	}
	var rep accounts.RunReport
	if err := json.Unmarshal([]byte(sys.MustCLI("run", "show", sum.RunID, "--json")), &rep); err != nil {
		t.Fatal(err)
	}
	var failure *accounts.Change
	for i, c := range rep.Changes {
		if c.Result == "failed" {
			failure = &rep.Changes[i]
		}
	}
	if failure == nil || failure.LocalName != "twin"+tag+"@corp" || !strings.Contains(failure.Error, "belongs to another account (directory id "+twin.ExternalID) {
		t.Fatalf("run show lists no such failure: %+v", rep.Changes)
	}
	text := sys.MustCLI("run", "show", sum.RunID)
	if !strings.Contains(text, "not taking over its identity") {
		t.Fatalf("run show text:\n%s", text)
	}
}

// domainResult returns a domain's result in a summary.
func domainResult(t *testing.T, sum cli.RunSummary, name string) events.DomainResult {
	t.Helper()
	for _, d := range sum.Domains {
		if d.Domain == name {
			return d
		}
	}
	t.Fatalf("summary has no domain %s", name)
	return events.DomainResult{}
}

package e2e

import (
	"strings"
	"testing"

	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/internal/testenv/samba"
	"github.com/adsync/adsync/internal/testenv/slapd"
	"github.com/adsync/adsync/services/account-writer/accounts"
)

// The DOMAIN\user local-name rule: the same username in two domains (Samba
// AD and OpenLDAP) gives two accounts, CORP\name and LAB\name, each keyed by
// its own directory id; a local name picks exactly one of them, and a new
// identity never takes over an existing account's name.
func TestDomainBackslashLocalNamesWithTheSameUsernameInTwoDomains(t *testing.T) {
	t.Parallel()
	dc := samba.Start(t)
	ou := dc.NewOU(t)
	tag := newTag(t)
	name := "dup" + tag
	dns := dc.AddUsers(t, ou, samba.User{CN: "Dup In Corp", SAM: name, Mail: "dup@corp.example.com"})
	openldap := slapd.Start(t)
	openldap.AddUser(t, slapd.User{UID: name, CN: "Dup In Lab", Surname: "Lab", Mail: "dup@lab.example.org"})

	sys := Start(t, []Domain{ADDomain("corp", dc, ou), LDAPDomain("lab", openldap)},
		WithConfig("accounts:\n  local_name: 'DOMAIN\\user'\n"))
	sys.MustCLI("job", "create", "all", "--all-domains",
		"--max-deactivation-percent", "0", "--max-result-drop-percent", "0")
	sys.MustComplete("all")

	byLocal := func() map[string]accounts.Account {
		t.Helper()
		m := map[string]accounts.Account{}
		for _, a := range sys.Accounts("") {
			if _, dup := m[a.LocalName]; dup {
				t.Fatalf("two accounts named %s", a.LocalName)
			}
			m[a.LocalName] = a
		}
		return m
	}
	corpName, labName := `CORP\`+name, `LAB\`+name
	all := byLocal()
	corp, lab := all[corpName], all[labName]
	if corp.ExternalID != dc.GUID(t, dns[0]) || corp.Domain != "corp" || corp.Username != name || corp.Email != "dup@corp.example.com" || !corp.Active {
		t.Fatalf("corp's account: %+v", corp)
	}
	if lab.ExternalID != openldap.EntryUUID(t, "uid="+name+","+openldap.UsersDN) || lab.Domain != "lab" || lab.Username != name || lab.Email != "dup@lab.example.org" || !lab.Active {
		t.Fatalf("lab's account: %+v", lab)
	}
	if _, ok := all[name+"@corp"]; ok {
		t.Fatal("an account was named by the user@domain rule")
	}
	if text := sys.MustCLI("accounts", "list"); !strings.Contains(text, corpName) || !strings.Contains(text, labName) {
		t.Fatalf("accounts list does not show the local names:\n%s", text)
	}

	// A local name picks one account: a local hold on LAB\name leaves
	// CORP\name alone, and survives the next run.
	sys.MustCLI("accounts", "deactivate", labName, "--reason", "lab access revoked")
	sum := sys.MustComplete("all")
	if d := domainResult(t, sum, "lab"); d.Drift != 1 {
		t.Fatalf("lab drift %d, want 1", d.Drift)
	}
	all = byLocal()
	if all[labName].Active || all[labName].DeactivatedBy != "local" || !all[corpName].Active {
		t.Fatalf("after a local hold of %s: lab %+v corp %+v", labName, all[labName], all[corpName])
	}
	var drift []accounts.Account
	if err := json.Unmarshal([]byte(sys.MustCLI("accounts", "drift", "--json")), &drift); err != nil || len(drift) != 1 || drift[0].LocalName != labName {
		t.Fatalf("accounts drift: %v %+v", err, drift)
	}
	sys.MustCLI("accounts", "reactivate", labName)
	if a := byLocal()[labName]; !a.Active {
		t.Fatalf("after reactivate: %+v", a)
	}

	// Deleted and created again in AD: a new objectGUID with the same name
	// never takes over CORP\name; the change fails and is listed.
	dc.Delete(t, dns[0])
	reborn := dc.AddUsers(t, ou, samba.User{CN: "Dup Reborn", SAM: name})
	again, err := sys.RunJob("all")
	if again.RunID == "" {
		t.Fatalf("run: %v", err)
	}
	if d := domainResult(t, again, "corp"); d.Failed != 1 || d.Deactivated != 1 || d.Created != 0 {
		t.Fatalf("corp after the user was created again: %+v", d)
	}
	all = byLocal()
	if a := all[corpName]; a.ExternalID != corp.ExternalID || a.Active || a.InactiveReason != "directory-removed" {
		t.Fatalf("%s after its user was deleted and created again: %+v", corpName, a)
	}
	if !all[labName].Active {
		t.Fatalf("%s after corp's user was created again: %+v", labName, all[labName])
	}
	var rep accounts.RunReport
	if err := json.Unmarshal([]byte(sys.MustCLI("run", "show", again.RunID, "--json")), &rep); err != nil {
		t.Fatal(err)
	}
	var failure *accounts.Change
	for i, c := range rep.Changes {
		if c.Result == "failed" {
			failure = &rep.Changes[i]
		}
	}
	if failure == nil || failure.LocalName != corpName || failure.ExternalID != dc.GUID(t, reborn[0]) ||
		!strings.Contains(failure.Error, "belongs to another account (directory id "+corp.ExternalID) {
		t.Fatalf("run show lists no such failure: %+v", rep.Changes)
	}
}

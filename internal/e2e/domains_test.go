package e2e

import (
	"regexp"
	"strings"
	"testing"

	"github.com/adsync/adsync/internal/testenv/samba"
	"github.com/adsync/adsync/internal/testenv/slapd"
)

// Two real directories at once — the Samba AD DC and an OpenLDAP slapd —
// plus a broken one: each domain is read, diffed and applied on its own,
// the broken one fails without stopping or rolling back the others, and
// --all-domains takes in a domain added to the configuration later.
func TestDomainsAreSyncedIndependently(t *testing.T) {
	t.Parallel()
	dc := samba.Start(t)
	ou := dc.NewOU(t)
	tag := newTag(t)
	dc.AddUsers(t, ou,
		samba.User{CN: "Ada Lovelace", SAM: "ada" + tag, Mail: "ada@corp.example.com"},
		samba.User{CN: "Alan Turing", SAM: "alan" + tag, Mail: "alan@corp.example.com"})
	openldap := slapd.Start(t, slapd.WithUsers(5))
	broken := LDAPDomain("broken", openldap)
	broken.BaseDN = "ou=nowhere,dc=example,dc=org" // no such object

	sys := Start(t, []Domain{ADDomain("corp", dc, ou), LDAPDomain("lab", openldap), broken})
	sys.MustCLI("job", "create", "everything", "--all-domains")
	sys.MustCLI("job", "create", "lab-only", "--domain", "lab")

	sum, err := sys.RunJob("everything")
	if err == nil || sum.Outcome != "partial" {
		t.Fatalf("outcome %s err %v, want partial and a non-zero exit", sum.Outcome, err)
	}
	outcome := map[string]string{}
	for _, d := range sum.Domains {
		outcome[d.Domain] = d.Outcome
		if d.Domain == "broken" && !strings.Contains(d.Reason, "ou=nowhere") {
			t.Errorf("broken domain's reason %q does not name the base DN", d.Reason)
		}
	}
	if outcome["corp"] != "completed" || outcome["lab"] != "completed" || outcome["broken"] != "failed" {
		t.Fatalf("domain outcomes %v", outcome)
	}
	if c, _, _, _, _ := Counts(t, sum, "corp"); c != 2 {
		t.Errorf("corp created %d", c)
	}
	if c, _, _, _, _ := Counts(t, sum, "lab"); c != 5 {
		t.Errorf("lab created %d", c)
	}
	if len(sum.Reasons) != 1 || !strings.Contains(sum.Reasons[0], `domain "broken" failed`) {
		t.Errorf("run reasons %v", sum.Reasons)
	}
	if n := len(sys.Accounts("corp")) + len(sys.Accounts("lab")); n != 7 {
		t.Fatalf("%d accounts, want 7", n)
	}
	// The history lists each domain's outcome and counts under the run.
	hist := sys.MustCLI("job", "history", "everything")
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sum.RunID) + ` .* partial +7 +0 +0 +0 +0 *$`),
		regexp.MustCompile(`(?m)^  domain corp +1 +completed +2 +0 +0 +0 +0 *$`),
		regexp.MustCompile(`(?m)^  domain lab +1 +completed +5 +0 +0 +0 +0 *$`),
		regexp.MustCompile(`(?m)^  domain broken +1 +failed +0 +0 +0 +0 +0 *$`),
	} {
		if !want.MatchString(hist) {
			t.Errorf("job history lacks %s:\n%s", want, hist)
		}
	}

	// --domain: only that one is read.
	before := sys.captured.count("adsync.directory.requested.v1")
	only := sys.MustComplete("lab-only")
	if len(only.Domains) != 1 || only.Domains[0].Domain != "lab" || sys.captured.count("adsync.directory.requested.v1") != before+1 {
		t.Fatalf("lab-only run: %+v", only.Domains)
	}

	// A domain added later is part of --all-domains (after the restart
	// that loads the new configuration).
	other := slapd.Start(t, slapd.WithUsers(2))
	sys.SetDomains(ADDomain("corp", dc, ou), LDAPDomain("lab", openldap), LDAPDomain("lab2", other))
	sys.Restart()
	sum = sys.MustComplete("everything")
	if len(sum.Domains) != 3 {
		t.Fatalf("domains after adding lab2: %+v", sum.Domains)
	}
	if c, _, _, _, _ := Counts(t, sum, "lab2"); c != 2 {
		t.Fatalf("lab2 created %d", c)
	}
	if r := sys.CLI("job", "create", "gone", "--domain", "broken"); r.Err == nil {
		t.Fatal("a job for a domain no longer configured was created")
	}
}

// Generic LDAP works with no settings for inetOrgPerson; the attributes map
// overrides any field and disabled_filter makes entries inactive.
func TestGenericLDAPDefaultsOverridesAndDisabledFilter(t *testing.T) {
	t.Parallel()
	openldap := slapd.Start(t)
	alice := openldap.AddUser(t, slapd.User{UID: "alice", CN: "Alice Liddell", GivenName: "Alice", Surname: "Liddell", Mail: "alice@example.org"})
	bob := openldap.AddUser(t, slapd.User{UID: "bob", CN: "Bob Builder", Surname: "Builder", DisplayName: "Bob the Builder", Mail: "bob@example.org"})
	openldap.Modify(t, bob, "employeeType", "disabled")
	openldap.Modify(t, alice, "employeeNumber", "E-1001")

	plain := LDAPDomain("plain", openldap)
	custom := LDAPDomain("custom", openldap)
	custom.DisabledFilter = "(employeeType=disabled)"
	sys := Start(t, []Domain{plain, custom},
		WithDomainYAML("custom", "    attributes:\n      username: employeeNumber\n      display_name: cn\n"))
	sys.MustCLI("job", "create", "both", "--all-domains")
	sum := sys.MustComplete("both")

	p := ByUsername(t, sys.Accounts("plain"))
	a, b := p["alice"], p["bob"]
	if a.ExternalID != openldap.EntryUUID(t, alice) || a.Email != "alice@example.org" || a.GivenName != "Alice" || a.Surname != "Liddell" {
		t.Errorf("plain alice: %+v", a)
	}
	if a.DisplayName != "Alice Liddell" || b.DisplayName != "Bob the Builder" {
		t.Errorf("display name: %q (cn fallback), %q (displayName)", a.DisplayName, b.DisplayName)
	}
	if !a.Active || !b.Active {
		t.Errorf("without disabled_filter everyone is active: %v %v", a.Active, b.Active)
	}

	c := sys.Accounts("custom")
	if len(c) != 1 {
		// bob has no employeeNumber: no username, skipped and reported.
		t.Fatalf("custom domain: %d accounts, want 1 (bob has no employeeNumber)", len(c))
	}
	if c[0].Username != "E-1001" || c[0].DisplayName != "Alice Liddell" {
		t.Errorf("custom alice: %+v", c[0])
	}
	for _, d := range sum.Domains {
		if d.Domain == "custom" && d.Skipped != 1 {
			t.Errorf("custom domain skipped %d entries, want 1", d.Skipped)
		}
	}

	// Without the overrides, bob is there too, inactive by disabled_filter.
	sys.overrides = nil
	sys.Restart()
	sys.MustComplete("both")
	for _, acc := range sys.Accounts("custom") {
		want := acc.Username != "bob"
		if acc.Active != want || (!want && acc.InactiveReason != "directory-disabled") {
			t.Errorf("%s: active=%v reason=%q", acc.Username, acc.Active, acc.InactiveReason)
		}
	}
}

// The attributes map works for Active Directory too.
func TestActiveDirectoryAttributeOverrides(t *testing.T) {
	t.Parallel()
	dc := samba.Start(t)
	ou := dc.NewOU(t)
	tag := newTag(t)
	dc.AddUsers(t, ou, samba.User{CN: "Grace Hopper", SAM: "grace" + tag, DisplayName: "Rear Admiral Hopper",
		Mail: "grace@old.example.com", UPN: "grace" + tag + "@corp.example.com"})
	sys := Start(t, []Domain{ADDomain("corp", dc, ou)},
		WithDomainYAML("corp", "    attributes:\n      email: userPrincipalName\n      display_name: cn\n      username: userPrincipalName\n"))
	sys.MustCLI("job", "create", "corp-sync", "--all-domains")
	sys.MustComplete("corp-sync")
	list := sys.Accounts("corp")
	if len(list) != 1 {
		t.Fatalf("%d accounts", len(list))
	}
	upn := "grace" + tag + "@corp.example.com"
	if a := list[0]; a.Email != upn || a.DisplayName != "Grace Hopper" || a.Username != upn {
		t.Fatalf("overridden fields: %+v", a)
	}
}

package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/adsync/adsync/internal/testenv/samba"
)

// inChain asks the DC itself, with LDAP_MATCHING_RULE_IN_CHAIN, for the
// groups a user belongs to transitively.
func inChain(t *testing.T, dc *samba.DC, base, userDN string) []string {
	t.Helper()
	pem, err := os.ReadFile(dc.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	conn, err := ldap.DialURL(dc.LDAPSURL, ldap.DialWithTLSConfig(&tls.Config{RootCAs: pool, ServerName: dc.ServerName}))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Bind(dc.BindDN, dc.Password); err != nil {
		t.Fatal(err)
	}
	res, err := conn.Search(ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(&(objectClass=group)(member:1.2.840.113556.1.4.1941:="+ldap.EscapeFilter(userDN)+"))", []string{"cn"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range res.Entries {
		names = append(names, e.GetAttributeValue("cn"))
	}
	slices.Sort(names)
	return names
}

// Group membership is synced with nested groups resolved (three levels
// deep, as Active Directory's own LDAP_MATCHING_RULE_IN_CHAIN says), group
// changes appear in the run summary, and a job can limit the groups it
// syncs to a base DN.
func TestNestedGroupsThreeLevelsDeep(t *testing.T) {
	t.Parallel()
	dc := samba.Start(t)
	ou := dc.NewOU(t)
	groupsOU := dc.NewOU(t)
	tag := newTag(t)
	top := dc.AddGroup(t, groupsOU, "Top-"+tag)
	mid := dc.AddGroup(t, groupsOU, "Mid-"+tag)
	leaf := dc.AddGroup(t, ou, "Leaf-"+tag)
	dc.AddMember(t, top, mid)
	dc.AddMember(t, mid, leaf)
	users := dc.AddUsers(t, ou, samba.User{CN: "Nora Nested", SAM: "nora" + tag}, samba.User{CN: "Plain", SAM: "plain" + tag})
	dc.AddMember(t, leaf, users[0])

	sys := Start(t, []Domain{ADDomain("corp", dc, ou)})
	sys.MustCLI("job", "create", "all-groups", "--all-domains")
	sum := sys.MustComplete("all-groups")
	if d := domainResult(t, sum, "corp"); d.Joined != 3 || d.Left != 0 {
		t.Fatalf("memberships in the summary: joined %d left %d", d.Joined, d.Left)
	}
	nora := byBaseName(t, sys.Accounts("corp"), tag)["nora"]
	want := []string{"Leaf-" + tag, "Mid-" + tag, "Top-" + tag}
	got := slices.Clone(nora.Groups)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("nora's groups %v, want %v", got, want)
	}
	if chain := inChain(t, dc, dc.BaseDN, users[0]); !slices.Equal(chain, want) {
		t.Fatalf("AD's IN_CHAIN says %v, adsync says %v", chain, got)
	}
	if text := sys.MustCLI("accounts", "list", "--domain", "corp"); !strings.Contains(text, "Leaf-"+tag+",Mid-"+tag+",Top-"+tag) {
		t.Fatalf("accounts list does not show the groups:\n%s", text)
	}

	// Leaving the leaf group leaves all three.
	dc.Modify(t, leaf, "member") // no members
	sum = sys.MustComplete("all-groups")
	if d := domainResult(t, sum, "corp"); d.Left != 3 || d.Updated != 1 {
		t.Fatalf("after leaving: %+v", d)
	}
	dc.AddMember(t, leaf, users[0])
	sys.MustComplete("all-groups")

	// A job limited to the groups under one OU syncs only those.
	sys.MustCLI("job", "update", "all-groups", "--groups-base-dn", groupsOU)
	sys.MustComplete("all-groups")
	nora = byBaseName(t, sys.Accounts("corp"), tag)["nora"]
	got = slices.Clone(nora.Groups)
	slices.Sort(got)
	if !slices.Equal(got, []string{"Mid-" + tag, "Top-" + tag}) {
		t.Fatalf("groups under %s: %v", groupsOU, got)
	}
}

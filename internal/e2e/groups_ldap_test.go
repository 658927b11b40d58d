package e2e

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/testenv/slapd"
)

// Nested groupOfNames on OpenLDAP, three levels deep, resolved from the
// memberof overlay's memberOf (direct memberships only) and the groups'
// own memberOf. Nesting a group in another changes none of its members'
// entries: the next run in the default auto mode sees the changed group
// and reads everything, so the new membership is synced.
func TestNestedGroupsOnOpenLDAPAndAGroupNestedLater(t *testing.T) {
	t.Parallel()
	openldap := slapd.Start(t)
	nora := openldap.AddUser(t, slapd.User{UID: "nora", CN: "Nora Nested"})
	plain := openldap.AddUser(t, slapd.User{UID: "plain", CN: "Plain"})
	leaf := openldap.AddGroup(t, "Leaf", nora)
	mid := openldap.AddGroup(t, "Mid", leaf)
	openldap.AddGroup(t, "Top", mid)
	other := openldap.AddGroup(t, "Other", plain)
	sys := Start(t, []Domain{LDAPDomain("lab", openldap)}, WithDomainYAML("lab", "    delta_overlap: 1s\n"))
	sys.MustCLI("job", "create", "lab-sync", "--all-domains")
	// modifyTimestamp has one-second precision and the watermark is taken
	// before a read minus the overlap: let the entries age past it, so that
	// a delta read is possible once nothing changed.
	start := time.Now()
	waitFor(t, "the entries to age past the overlap", 5*time.Second, func() bool { return time.Since(start) > 2100*time.Millisecond })

	first := sys.MustComplete("lab-sync")
	if d := domainResult(t, first, "lab"); d.Mode != events.ModeFull || d.Created != 2 || d.Joined != 4 {
		t.Fatalf("first run: %+v", d)
	}
	groupsOf := func(user string) []string {
		t.Helper()
		a, ok := ByUsername(t, sys.Accounts("lab"))[user]
		if !ok {
			t.Fatalf("no account %s", user)
		}
		g := slices.Clone(a.Groups)
		slices.Sort(g)
		return g
	}
	if got := groupsOf("nora"); !slices.Equal(got, []string{"Leaf", "Mid", "Top"}) {
		t.Fatalf("nora's groups %v, want Leaf, Mid, Top", got)
	}
	if got := groupsOf("plain"); !slices.Equal(got, []string{"Other"}) {
		t.Fatalf("plain's groups %v, want Other", got)
	}
	if text := sys.MustCLI("accounts", "list", "--domain", "lab"); !strings.Contains(text, "Leaf,Mid,Top") {
		t.Fatalf("accounts list does not show nora's groups:\n%s", text)
	}

	// Nothing changed: a delta read, which reads nothing.
	quiet := sys.MustComplete("lab-sync")
	if d := domainResult(t, quiet, "lab"); d.Mode != events.ModeDelta || d.Entries != 0 {
		t.Fatalf("run without change: %+v", d)
	}

	// Leaf nested in Other: only Other and Leaf change, not nora.
	openldap.AddMember(t, other, leaf)
	if got := openldap.Attr(t, nora, "memberOf"); len(got) != 1 || !strings.EqualFold(got[0], leaf) {
		t.Fatalf("nora's memberOf %v, want only %s (the overlay keeps direct memberships)", got, leaf)
	}
	nested := sys.MustComplete("lab-sync")
	d := domainResult(t, nested, "lab")
	if d.Mode != events.ModeFull || d.Joined != 1 || d.Left != 0 || d.Updated != 1 {
		t.Fatalf("run after nesting Leaf in Other: %+v", d)
	}
	if got := groupsOf("nora"); !slices.Equal(got, []string{"Leaf", "Mid", "Other", "Top"}) {
		t.Fatalf("nora's groups after nesting %v, want Leaf, Mid, Other, Top", got)
	}
	if text := sys.MustCLI("accounts", "list", "--domain", "lab"); !strings.Contains(text, "Leaf,Mid,Other,Top") {
		t.Fatalf("accounts list does not show nora's new group:\n%s", text)
	}
	if log := readLog(t, sys); !strings.Contains(log, "group "+other+" changed since the last read") && !strings.Contains(log, "group "+leaf+" changed since the last read") {
		t.Error("the log does not say why the read was full")
	}
}

package e2e

import (
	"slices"
	"strings"
	"testing"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/testenv/samba"
)

// --groups-filter limits the groups a job syncs to those the directory
// says match it; a membership through a group outside the filter still
// counts (nested groups are resolved through every group), and changing or
// clearing the filter changes the synced memberships at the next run.
func TestGroupsFilterLimitsTheSyncedGroups(t *testing.T) {
	t.Parallel()
	dc := samba.Start(t)
	ou := dc.NewOU(t)
	groupsOU := dc.NewOU(t)
	tag := newTag(t)
	teamA := dc.AddGroup(t, groupsOU, "Team-A-"+tag)
	teamB := dc.AddGroup(t, groupsOU, "Team-B-"+tag)
	leaf := dc.AddGroup(t, groupsOU, "Leaf-"+tag)
	other := dc.AddGroup(t, groupsOU, "Other-"+tag)
	users := dc.AddUsers(t, ou, samba.User{CN: "Nora", SAM: "nora" + tag}, samba.User{CN: "Olga", SAM: "olga" + tag})
	nora, olga := users[0], users[1]
	dc.AddMember(t, teamA, nora)
	dc.AddMember(t, leaf, nora)
	dc.AddMember(t, teamB, leaf) // nora is in Team-B through Leaf
	dc.AddMember(t, other, nora)
	dc.AddMember(t, other, olga)

	sys := Start(t, []Domain{ADDomain("corp", dc, ou)})
	if r := sys.CLI("job", "create", "bad", "--all-domains", "--groups-filter", "(cn=Team-"); r.Err == nil || !strings.Contains(r.Err.Error()+r.Stderr, "--groups-filter") {
		t.Fatalf("a job with an unparsable --groups-filter: %v %s", r.Err, r.Stderr)
	}
	sys.MustCLI("job", "create", "teams", "--all-domains", "--groups-base-dn", groupsOU, "--groups-filter", "(cn=Team-*-"+tag+")")
	groupsOf := func(user string) []string {
		t.Helper()
		a, ok := byBaseName(t, sys.Accounts("corp"), tag)[user]
		if !ok {
			t.Fatalf("no account %s", user)
		}
		g := slices.Clone(a.Groups)
		slices.Sort(g)
		return g
	}

	sum := sys.MustComplete("teams")
	if d := domainResult(t, sum, "corp"); d.Joined != 2 || d.Left != 0 {
		t.Fatalf("memberships in the summary: %+v", d)
	}
	if got := groupsOf("nora"); !slices.Equal(got, []string{"Team-A-" + tag, "Team-B-" + tag}) {
		t.Fatalf("nora's groups %v, want Team-A and Team-B only", got)
	}
	if got := groupsOf("olga"); len(got) != 0 {
		t.Fatalf("olga's groups %v, want none (Other is outside the filter)", got)
	}
	if text := sys.MustCLI("accounts", "list", "--domain", "corp"); !strings.Contains(text, "Team-A-"+tag+",Team-B-"+tag) || strings.Contains(text, "Other-"+tag) {
		t.Fatalf("accounts list:\n%s", text)
	}

	// Another filter: the next read is full (the job's group scope
	// changed) and the memberships follow.
	sys.MustCLI("job", "update", "teams", "--groups-filter", "(cn=Other-"+tag+")")
	sum = sys.MustComplete("teams")
	if d := domainResult(t, sum, "corp"); d.Mode != events.ModeFull || d.Joined != 2 || d.Left != 2 {
		t.Fatalf("after changing the filter: %+v", d)
	}
	if got := groupsOf("nora"); !slices.Equal(got, []string{"Other-" + tag}) {
		t.Fatalf("nora's groups %v, want Other only", got)
	}
	if got := groupsOf("olga"); !slices.Equal(got, []string{"Other-" + tag}) {
		t.Fatalf("olga's groups %v, want Other", got)
	}

	// No filter: every group under the groups' base DN.
	sys.MustCLI("job", "update", "teams", "--groups-filter", "")
	sys.MustComplete("teams")
	if got := groupsOf("nora"); !slices.Equal(got, []string{"Leaf-" + tag, "Other-" + tag, "Team-A-" + tag, "Team-B-" + tag}) {
		t.Fatalf("nora's groups without a filter %v", got)
	}
}

package e2e

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/adsync/adsync/internal/testenv/samba"
	"github.com/adsync/adsync/internal/testenv/slapd"
)

// adDiffDir is a Samba AD DC under the differential test.
type adDiffDir struct {
	dc     *samba.DC
	base   string
	filter string
}

func (d *adDiffDir) addUser(t *testing.T, parent, name string) (string, string) {
	dn := d.dc.AddUsers(t, parent, samba.User{CN: "U " + name, SAM: name, GivenName: "G" + name, Surname: "S" + name,
		DisplayName: "D " + name, Mail: name + "@corp.example.com", UPN: name + "@corp.example.com"})[0]
	return dn, d.dc.GUID(t, dn)
}

func (d *adDiffDir) delete(t *testing.T, u *diffUser) { d.dc.Delete(t, u.dn) }

func (d *adDiffDir) restore(t *testing.T, u *diffUser) bool {
	d.dc.Restore(t, u.id, u.dn)
	return true
}

func (d *adDiffDir) setDisabled(t *testing.T, u *diffUser, on bool) { d.dc.SetDisabled(t, u.dn, on) }

// neverExpires is accountExpires' "never".
const neverExpires = "9223372036854775807"

func (d *adDiffDir) setExpired(t *testing.T, u *diffUser, on bool) bool {
	v := neverExpires
	if on {
		v = adFileTime(time.Now().Add(-48 * time.Hour))
	}
	d.dc.Modify(t, u.dn, "accountExpires", v)
	return true
}

func (d *adDiffDir) rename(t *testing.T, u *diffUser, name string) { d.dc.Rename(t, u.dn, name) }

func (d *adDiffDir) modrdn(t *testing.T, u *diffUser, value string) {
	u.dn = d.dc.RenameRDN(t, u.dn, "CN="+ldap.EscapeDN(value))
}

func (d *adDiffDir) move(t *testing.T, u *diffUser, parent string) { u.dn = d.dc.Move(t, u.dn, parent) }

func (d *adDiffDir) setAttr(t *testing.T, u *diffUser, attr, value string) {
	d.dc.Modify(t, u.dn, attr, value)
}

func (d *adDiffDir) addMember(t *testing.T, group, dn string)    { d.dc.AddMember(t, group, dn) }
func (d *adDiffDir) removeMember(t *testing.T, group, dn string) { d.dc.RemoveMember(t, group, dn) }
func (d *adDiffDir) attrs() []string                             { return []string{"mail", "givenName", "sn", "displayName"} }
func (d *adDiffDir) groupsFollowMoves() bool                     { return false }

func (d *adDiffDir) scope(t *testing.T) map[string]wantAccount {
	out := map[string]wantAccount{}
	for _, e := range d.dc.Search(t, d.base, d.filter, "sAMAccountName", "userPrincipalName", "mail", "givenName", "sn", "displayName",
		"userAccountControl", "accountExpires") {
		w := wantAccount{Username: attrOf(e, "sAMAccountName"), UPN: attrOf(e, "userPrincipalName"), Email: attrOf(e, "mail"),
			GivenName: attrOf(e, "givenName"), Surname: attrOf(e, "sn"), DisplayName: attrOf(e, "displayName"), DN: e.DN, Active: true}
		uac, err := strconv.Atoi(attrOf(e, "userAccountControl"))
		if err != nil {
			t.Fatalf("userAccountControl of %s: %v", e.DN, err)
		}
		if uac&2 != 0 {
			w.Active, w.InactiveReason = false, "directory-disabled"
		} else if ft, _ := strconv.ParseInt(attrOf(e, "accountExpires"), 10, 64); ft != 0 && attrOf(e, "accountExpires") != neverExpires &&
			time.Unix(ft/1e7-11644473600, 0).Before(time.Now()) {
			w.Active, w.InactiveReason = false, "expired"
		}
		out[d.dc.GUID(t, e.DN)] = w
	}
	return out
}

// ldapDiffDir is an OpenLDAP slapd under the differential test.
type ldapDiffDir struct {
	s      *slapd.Server
	base   string
	filter string
}

func (d *ldapDiffDir) addUser(t *testing.T, parent, name string) (string, string) {
	dn := "uid=" + name + "," + parent
	d.s.AddEntry(t, dn, map[string][]string{"objectClass": {"top", "person", "organizationalPerson", "inetOrgPerson"},
		"uid": {name}, "cn": {"U " + name}, "sn": {"S" + name}, "givenName": {"G" + name}, "mail": {name + "@example.org"}})
	return dn, d.s.EntryUUID(t, dn)
}

func (d *ldapDiffDir) delete(t *testing.T, u *diffUser) { d.s.Delete(t, u.dn) }

// restore: OpenLDAP keeps nothing of a deleted entry.
func (d *ldapDiffDir) restore(*testing.T, *diffUser) bool { return false }

func (d *ldapDiffDir) setDisabled(t *testing.T, u *diffUser, on bool) {
	if on {
		d.s.Modify(t, u.dn, "employeeType", "disabled")
	} else {
		d.s.Modify(t, u.dn, "employeeType")
	}
}

// setExpired: generic LDAP has no account expiry.
func (d *ldapDiffDir) setExpired(*testing.T, *diffUser, bool) bool { return false }

// rename changes the uid, which is the RDN: a modrdn.
func (d *ldapDiffDir) rename(t *testing.T, u *diffUser, name string) {
	u.dn = d.s.Rename(t, u.dn, "uid="+name)
}

// modrdn: the uid is the RDN, so another RDN is another login name.
func (d *ldapDiffDir) modrdn(t *testing.T, u *diffUser, value string) {
	name := strings.ToLower(strings.ReplaceAll(value, " ", ""))
	u.dn = d.s.Rename(t, u.dn, "uid="+name)
	u.name = name
}

func (d *ldapDiffDir) move(t *testing.T, u *diffUser, parent string) {
	u.dn = d.s.Move(t, u.dn, parent)
}

func (d *ldapDiffDir) setAttr(t *testing.T, u *diffUser, attr, value string) {
	d.s.Modify(t, u.dn, attr, value)
}

func (d *ldapDiffDir) addMember(t *testing.T, group, dn string)    { d.s.AddMember(t, group, dn) }
func (d *ldapDiffDir) removeMember(t *testing.T, group, dn string) { d.s.RemoveMember(t, group, dn) }
func (d *ldapDiffDir) attrs() []string                             { return []string{"mail", "givenName", "sn", "displayName"} }
func (d *ldapDiffDir) groupsFollowMoves() bool                     { return true }

func (d *ldapDiffDir) scope(t *testing.T) map[string]wantAccount {
	out := map[string]wantAccount{}
	for _, e := range d.s.Search(t, d.base, d.filter, "entryUUID", "uid", "mail", "givenName", "sn", "displayName", "cn", "employeeType") {
		w := wantAccount{Username: attrOf(e, "uid"), Email: attrOf(e, "mail"), GivenName: attrOf(e, "givenName"), Surname: attrOf(e, "sn"),
			DisplayName: attrOf(e, "displayName"), DN: e.DN, Active: true}
		if w.DisplayName == "" {
			w.DisplayName = attrOf(e, "cn")
		}
		if attrOf(e, "employeeType") == "disabled" {
			w.Active, w.InactiveReason = false, "directory-disabled"
		}
		out[attrOf(e, "entryUUID")] = w
	}
	return out
}

// Delta reads end in the same accounts as full reads on Active Directory:
// users added, deleted and restored from their tombstone, disabled,
// expired, renamed, moved inside, out of and back into the synced OU, in
// and out of the group the user filter names (directly and through a
// nested group), attributes, and team memberships direct and nested.
func TestDeltaEqualsFullOnActiveDirectory(t *testing.T) {
	t.Parallel()
	dc := samba.Start(t)
	// Every operation, the toggles twice (on, then likely off).
	script := []string{"add", "disable", "disable", "expire", "expire", "rename", "modrdn", "move-out", "move-in", "leaver", "move-in",
		"app", "app", "attr", "team", "nest", "team", "nest", "delete", "restore", "delete", "add"}
	runDiffSeeds(t, adRegressionSeeds, script, func(t *testing.T, seed uint64, steps int, script []string) {
		base, outer, apps, teamsOU := dc.NewOU(t), dc.NewOU(t), dc.NewOU(t), dc.NewOU(t)
		tag := newTag(t)
		w := &diffWorld{rng: rand.New(rand.NewPCG(seed, 0)), tag: tag, base: base, outer: outer, nestedIn: map[int]int{}, script: script}
		w.inner = dc.AddOU(t, base, "Inner")
		w.app = dc.AddGroup(t, apps, "App-"+tag)
		w.appNested = dc.AddGroup(t, apps, "AppNested-"+tag)
		dc.AddMember(t, w.app, w.appNested)
		for i := range 3 {
			name := "Team" + strconv.Itoa(i) + "-" + tag
			w.teams, w.teamNames = append(w.teams, dc.AddGroup(t, teamsOU, name)), append(w.teamNames, name)
		}
		filter := "(&(objectCategory=person)(objectClass=user)(memberOf:1.2.840.113556.1.4.1941:=" + ldap.EscapeFilter(w.app) + "))"
		w.dir = &adDiffDir{dc: dc, base: base, filter: filter}
		w.setUp(t)
		domain := ADDomain("corp", dc, base)
		domain.UserFilter = filter
		deltaSys, fullSys := Start(t, []Domain{domain}), Start(t, []Domain{domain})
		diffJobs(deltaSys, fullSys, teamsOU)
		runDiffTest(t, w, steps, seed, deltaSys, fullSys, "corp")
	})
}

// The same on OpenLDAP (no tombstones, no expiry; the user filter names a
// group directly, as the memberof overlay keeps direct memberships).
func TestDeltaEqualsFullOnOpenLDAP(t *testing.T) {
	t.Parallel()
	script := []string{"add", "disable", "disable", "rename", "modrdn", "move-out", "move-in", "leaver", "move-in", "app", "app", "attr",
		"team", "nest", "delete", "add"}
	runDiffSeeds(t, ldapRegressionSeeds, script, func(t *testing.T, seed uint64, steps int, script []string) {
		s := slapd.Start(t)
		tag := newTag(t)
		w := &diffWorld{rng: rand.New(rand.NewPCG(seed, 0)), tag: tag, base: s.UsersDN, nestedIn: map[int]int{}, script: script}
		w.outer = s.AddOU(t, "leavers")
		w.inner = "ou=inner," + s.UsersDN
		s.AddEntry(t, w.inner, map[string][]string{"objectClass": {"top", "organizationalUnit"}, "ou": {"inner"}})
		apps, teamsOU := s.AddOU(t, "apps"), s.AddOU(t, "teams")
		// groupOfNames needs a member: one that is no user.
		group := func(parent, cn string) string {
			dn := "cn=" + cn + "," + parent
			s.AddEntry(t, dn, map[string][]string{"objectClass": {"top", "groupOfNames"}, "cn": {cn}, "member": {"cn=nobody," + s.BaseDN}})
			return dn
		}
		w.app = group(apps, "app")
		for i := range 3 {
			name := "team" + strconv.Itoa(i)
			w.teams, w.teamNames = append(w.teams, group(teamsOU, name)), append(w.teamNames, name)
		}
		filter := "(&(objectClass=inetOrgPerson)(memberOf=" + ldap.EscapeFilter(w.app) + "))"
		w.dir = &ldapDiffDir{s: s, base: s.UsersDN, filter: filter}
		w.overlap, w.lastTouch = 2100*time.Millisecond, time.Now()
		w.setUp(t)
		domain := LDAPDomain("lab", s)
		domain.UserFilter, domain.DisabledFilter = filter, "(employeeType=disabled)"
		// modifyTimestamp has one-second precision: a short overlap keeps
		// the delta reads small.
		opt := WithDomainYAML("lab", "    delta_overlap: 1s\n")
		deltaSys, fullSys := Start(t, []Domain{domain}, opt), Start(t, []Domain{domain}, opt)
		diffJobs(deltaSys, fullSys, teamsOU)
		runDiffTest(t, w, steps, seed, deltaSys, fullSys, "lab")
	})
}

package testenv

import (
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// InetUser describes an inetOrgPerson to add with AddUser.
type InetUser struct {
	UID         string // RDN uid=<UID> under UsersDN; empty: RDN cn=<CN> and no uid
	CN          string // default UID
	GivenName   string
	Surname     string // sn (required by the schema): default CN
	DisplayName string
	Mail        string
}

// AddUser adds u under UsersDN and returns its DN.
func (s *SlapdServer) AddUser(t testing.TB, u InetUser) string {
	t.Helper()
	if u.CN == "" {
		u.CN = u.UID
	}
	if u.Surname == "" {
		u.Surname = u.CN
	}
	if u.CN == "" {
		t.Fatalf("testenv: InetUser needs a UID or a CN")
	}
	dn := "cn=" + ldap.EscapeDN(u.CN) + "," + s.UsersDN
	if u.UID != "" {
		dn = "uid=" + ldap.EscapeDN(u.UID) + "," + s.UsersDN
	}
	attrs := map[string][]string{
		"objectClass": {"top", "person", "organizationalPerson", "inetOrgPerson"},
		"cn":          {u.CN},
		"sn":          {u.Surname},
	}
	for name, v := range map[string]string{"uid": u.UID, "givenName": u.GivenName, "displayName": u.DisplayName, "mail": u.Mail} {
		if v != "" {
			attrs[name] = []string{v}
		}
	}
	s.AddEntry(t, dn, attrs)
	return dn
}

// AddEntry adds an arbitrary entry.
func (s *SlapdServer) AddEntry(t testing.TB, dn string, attrs map[string][]string) {
	t.Helper()
	s.do(t, "add "+dn, func(c *ldap.Conn) error {
		req := ldap.NewAddRequest(dn, nil)
		for name, vals := range attrs {
			req.Attribute(name, vals)
		}
		return c.Add(req)
	})
}

// AddOU adds organizationalUnit ou=<name> under BaseDN and returns its DN.
func (s *SlapdServer) AddOU(t testing.TB, name string) string {
	t.Helper()
	dn := "ou=" + ldap.EscapeDN(name) + "," + s.BaseDN
	s.AddEntry(t, dn, map[string][]string{"objectClass": {"top", "organizationalUnit"}, "ou": {name}})
	return dn
}

// AddGroup adds groupOfNames cn=<cn> under GroupsDN with the given members
// (the schema requires at least one) and returns its DN. The memberof
// overlay then lists the group in each member's memberOf.
func (s *SlapdServer) AddGroup(t testing.TB, cn string, memberDNs ...string) string {
	t.Helper()
	if len(memberDNs) == 0 {
		t.Fatalf("testenv: groupOfNames %q needs at least one member", cn)
	}
	dn := "cn=" + ldap.EscapeDN(cn) + "," + s.GroupsDN
	s.AddEntry(t, dn, map[string][]string{"objectClass": {"top", "groupOfNames"}, "cn": {cn}, "member": memberDNs})
	return dn
}

// AddMember adds memberDN to groupDN.
func (s *SlapdServer) AddMember(t testing.TB, groupDN, memberDN string) {
	t.Helper()
	s.do(t, "add member to "+groupDN, func(c *ldap.Conn) error {
		req := ldap.NewModifyRequest(groupDN, nil)
		req.Add("member", []string{memberDN})
		return c.Modify(req)
	})
}

// Delete deletes the leaf entry dn.
func (s *SlapdServer) Delete(t testing.TB, dn string) {
	t.Helper()
	s.do(t, "delete "+dn, func(c *ldap.Conn) error { return c.Del(ldap.NewDelRequest(dn, nil)) })
}

// Modify replaces attr of dn with values; no values deletes the attribute.
func (s *SlapdServer) Modify(t testing.TB, dn, attr string, values ...string) {
	t.Helper()
	s.do(t, "modify "+attr+" of "+dn, func(c *ldap.Conn) error {
		req := ldap.NewModifyRequest(dn, nil)
		req.Replace(attr, values)
		return c.Modify(req)
	})
}

// Move moves dn under newParentDN keeping its RDN and returns the new DN.
func (s *SlapdServer) Move(t testing.TB, dn, newParentDN string) string {
	t.Helper()
	rdn, err := firstRDN(dn)
	if err != nil {
		t.Fatalf("testenv: move %s: %v", dn, err)
	}
	s.do(t, "move "+dn, func(c *ldap.Conn) error {
		return c.ModifyDN(ldap.NewModifyDNRequest(dn, rdn, true, newParentDN))
	})
	return rdn + "," + newParentDN
}

// Rename gives dn the RDN newRDN (e.g. "uid=bob") under the same parent,
// dropping the old RDN value (modrdn, deleteoldrdn: the entry keeps its
// entryUUID), and returns the new DN.
func (s *SlapdServer) Rename(t testing.TB, dn, newRDN string) string {
	t.Helper()
	parsed, err := ldap.ParseDN(dn)
	if err != nil || len(parsed.RDNs) < 2 {
		t.Fatalf("testenv: rename %s: not a DN with a parent: %v", dn, err)
	}
	parent := &ldap.DN{RDNs: parsed.RDNs[1:]}
	s.do(t, "rename "+dn, func(c *ldap.Conn) error {
		return c.ModifyDN(ldap.NewModifyDNRequest(dn, newRDN, true, ""))
	})
	return newRDN + "," + parent.String()
}

// EntryUUID returns the entryUUID of dn.
func (s *SlapdServer) EntryUUID(t testing.TB, dn string) string {
	t.Helper()
	vals := s.Attr(t, dn, "entryUUID")
	if len(vals) != 1 {
		t.Fatalf("testenv: entryUUID of %s: %q", dn, vals)
	}
	return vals[0]
}

// Attr returns the values of attr (operational attributes too) of dn.
func (s *SlapdServer) Attr(t testing.TB, dn, attr string) []string {
	t.Helper()
	var vals []string
	s.do(t, "read "+attr+" of "+dn, func(c *ldap.Conn) error {
		e, err := readEntry(c, dn, attr)
		if err != nil {
			return err
		}
		vals = e.GetEqualFoldAttributeValues(attr)
		return nil
	})
	return vals
}

// do runs fn on the admin connection (LDAPS, rootdn), failing the test on
// error.
func (s *SlapdServer) do(t testing.TB, what string, fn func(*ldap.Conn) error) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		t.Fatalf("testenv: slapd: %s: slapd is stopped", what)
	}
	if s.conn == nil || s.conn.IsClosing() {
		c, err := dialAdmin(s.LDAPSURL, s.CAFile, s.ServerName, s.BindDN, s.Password, 30*time.Second)
		if err != nil {
			t.Fatalf("testenv: slapd: %s: %v", what, err)
		}
		s.conn = c
	}
	if err := fn(s.conn); err != nil {
		t.Fatalf("testenv: slapd: %s: %v", what, err)
	}
}

// Users returns every inetOrgPerson under UsersDN with attrs, read in
// pages of 500.
func (s *SlapdServer) Users(t testing.TB, attrs ...string) []*ldap.Entry {
	t.Helper()
	return s.Search(t, s.UsersDN, "(objectClass=inetOrgPerson)", attrs...)
}

// Search returns the entries below base that match filter, with attrs
// (operational ones too, by name), read in pages of 500.
func (s *SlapdServer) Search(t testing.TB, base, filter string, attrs ...string) []*ldap.Entry {
	t.Helper()
	var entries []*ldap.Entry
	s.do(t, "search "+base+" "+filter, func(c *ldap.Conn) (err error) {
		entries, err = searchAll(c, base, filter, attrs)
		return err
	})
	return entries
}

// RemoveMember removes memberDN from groupDN.
func (s *SlapdServer) RemoveMember(t testing.TB, groupDN, memberDN string) {
	t.Helper()
	s.do(t, "remove member from "+groupDN, func(c *ldap.Conn) error { return removeMember(c, groupDN, memberDN) })
}

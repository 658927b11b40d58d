package slapd

import (
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/adsync/adsync/internal/testenv"
)

// User describes an inetOrgPerson to add with AddUser.
type User struct {
	UID         string // RDN uid=<UID> under UsersDN; empty: RDN cn=<CN> and no uid
	CN          string // default UID
	GivenName   string
	Surname     string // sn (required by the schema): default CN
	DisplayName string
	Mail        string
}

// AddUser adds u under UsersDN and returns its DN.
func (s *Server) AddUser(t testing.TB, u User) string {
	t.Helper()
	if u.CN == "" {
		u.CN = u.UID
	}
	if u.Surname == "" {
		u.Surname = u.CN
	}
	if u.CN == "" {
		t.Fatalf("testenv: User needs a UID or a CN")
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
func (s *Server) AddEntry(t testing.TB, dn string, attrs map[string][]string) {
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
func (s *Server) AddOU(t testing.TB, name string) string {
	t.Helper()
	dn := "ou=" + ldap.EscapeDN(name) + "," + s.BaseDN
	s.AddEntry(t, dn, map[string][]string{"objectClass": {"top", "organizationalUnit"}, "ou": {name}})
	return dn
}

// AddGroup adds groupOfNames cn=<cn> under GroupsDN with the given members
// (the schema requires at least one) and returns its DN. The memberof
// overlay then lists the group in each member's memberOf.
func (s *Server) AddGroup(t testing.TB, cn string, memberDNs ...string) string {
	t.Helper()
	if len(memberDNs) == 0 {
		t.Fatalf("testenv: groupOfNames %q needs at least one member", cn)
	}
	dn := "cn=" + ldap.EscapeDN(cn) + "," + s.GroupsDN
	s.AddEntry(t, dn, map[string][]string{"objectClass": {"top", "groupOfNames"}, "cn": {cn}, "member": memberDNs})
	return dn
}

// Delete deletes the leaf entry dn.
func (s *Server) Delete(t testing.TB, dn string) {
	t.Helper()
	s.do(t, "delete "+dn, func(c *ldap.Conn) error { return c.Del(ldap.NewDelRequest(dn, nil)) })
}

// Rename gives dn the RDN newRDN (e.g. "uid=bob") under the same parent,
// dropping the old RDN value (modrdn, deleteoldrdn: the entry keeps its
// entryUUID), and returns the new DN.
func (s *Server) Rename(t testing.TB, dn, newRDN string) string {
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
func (s *Server) EntryUUID(t testing.TB, dn string) string {
	t.Helper()
	vals := s.Attr(t, dn, "entryUUID")
	if len(vals) != 1 {
		t.Fatalf("testenv: entryUUID of %s: %q", dn, vals)
	}
	return vals[0]
}

// do runs fn on the admin connection (LDAPS, rootdn), failing the test on
// error.
func (s *Server) do(t testing.TB, what string, fn func(*ldap.Conn) error) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		t.Fatalf("testenv: slapd: %s: slapd is stopped", what)
	}
	if s.conn == nil || s.conn.IsClosing() {
		c, err := testenv.DialAdmin(s.LDAPSURL, s.CAFile, s.ServerName, s.BindDN, s.Password, 30*time.Second)
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
func (s *Server) Users(t testing.TB, attrs ...string) []*ldap.Entry {
	t.Helper()
	return s.Search(t, s.UsersDN, "(objectClass=inetOrgPerson)", attrs...)
}

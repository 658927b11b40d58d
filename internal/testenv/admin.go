package testenv

import (
	"testing"

	"github.com/go-ldap/ldap/v3"
)

// Admin makes the changes tests need in a directory, as its administrator:
// each runs on the connection Do hands it, and fails the test on error.
// The Samba DC and the slapd servers embed one.
type Admin struct {
	Do func(t testing.TB, what string, fn func(*ldap.Conn) error)
}

// Modify replaces attr of dn with values; no values deletes the attribute.
func (a Admin) Modify(t testing.TB, dn, attr string, values ...string) {
	t.Helper()
	a.Do(t, "modify "+attr+" of "+dn, func(c *ldap.Conn) error {
		req := ldap.NewModifyRequest(dn, nil)
		req.Replace(attr, values)
		return c.Modify(req)
	})
}

// Move moves dn under newParentDN keeping its RDN and returns the new DN.
func (a Admin) Move(t testing.TB, dn, newParentDN string) string {
	t.Helper()
	rdn, err := FirstRDN(dn)
	if err != nil {
		t.Fatalf("testenv: move %s: %v", dn, err)
	}
	a.Do(t, "move "+dn, func(c *ldap.Conn) error {
		return c.ModifyDN(ldap.NewModifyDNRequest(dn, rdn, true, newParentDN))
	})
	return rdn + "," + newParentDN
}

// Search returns the entries below base that match filter, with attrs
// (operational ones too, by name), read in pages of 500.
func (a Admin) Search(t testing.TB, base, filter string, attrs ...string) []*ldap.Entry {
	t.Helper()
	var entries []*ldap.Entry
	a.Do(t, "search "+base+" "+filter, func(c *ldap.Conn) (err error) {
		entries, err = SearchAll(c, base, filter, attrs)
		return err
	})
	return entries
}

// Attr returns the values of attr (operational attributes too) of dn.
func (a Admin) Attr(t testing.TB, dn, attr string) []string {
	t.Helper()
	var vals []string
	a.Do(t, "read "+attr+" of "+dn, func(c *ldap.Conn) error {
		e, err := ReadEntry(c, dn, attr)
		if err != nil {
			return err
		}
		vals = e.GetEqualFoldAttributeValues(attr)
		return nil
	})
	return vals
}

// AddMember adds memberDN to groupDN.
func (a Admin) AddMember(t testing.TB, groupDN, memberDN string) {
	t.Helper()
	a.Do(t, "add member to "+groupDN, func(c *ldap.Conn) error {
		req := ldap.NewModifyRequest(groupDN, nil)
		req.Add("member", []string{memberDN})
		return c.Modify(req)
	})
}

// RemoveMember removes memberDN from groupDN.
func (a Admin) RemoveMember(t testing.TB, groupDN, memberDN string) {
	t.Helper()
	a.Do(t, "remove member from "+groupDN, func(c *ldap.Conn) error { return RemoveMember(c, groupDN, memberDN) })
}

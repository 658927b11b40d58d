package samba

import (
	"fmt"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// NewOU creates a uniquely named OU directly under the base DN for this test
// (named after t.Name() plus a random suffix) and returns its DN. Point the
// code under test at it to see only this test's objects. The OU and its
// subtree are deleted when the test ends, unless the test failed (then its
// DN is logged for inspection).
func (dc *DC) NewOU(t testing.TB) string {
	t.Helper()
	dn := "OU=" + ldap.EscapeDN(uniqueName(t.Name(), 40)) + "," + dc.BaseDN
	dc.do(t, "add OU "+dn, func(c *ldap.Conn) error {
		req := ldap.NewAddRequest(dn, nil)
		req.Attribute("objectClass", []string{"organizationalUnit"})
		return c.Add(req)
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("testenv: keeping %s of the failed test for inspection", dn)
			return
		}
		if err := dc.withConn(func(c *ldap.Conn) error { return deleteTree(c, dn) }); err != nil {
			t.Errorf("testenv: delete %s: %v", dn, err)
		}
	})
	return dn
}

// deleteTreeTimeout bounds a tree delete, which Samba does in one
// transaction: 1,200 users took 5–7 s on a fresh DC, and 28–29 s on one
// that also held the bench's 10,000-user OU (its adds and deletes slow down
// as the database grows). The admin connection's other requests keep
// adminTimeout.
const deleteTreeTimeout = 5 * time.Minute

// deleteTree deletes dn and everything below it (tree delete control, which
// AD and Samba support). A missing entry is not an error.
func deleteTree(c *ldap.Conn, dn string) error {
	c.SetTimeout(deleteTreeTimeout)
	defer c.SetTimeout(adminTimeout)
	err := c.Del(ldap.NewDelRequest(dn, []ldap.Control{ldap.NewControlSubtreeDelete()}))
	if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete tree %s: %w", dn, err)
	}
	return nil
}

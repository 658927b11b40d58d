package samba

import (
	"fmt"
	"testing"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// Restore brings a deleted user back from its tombstone (Active Directory's
// tombstone reanimation, as the Recycle Bin does): the same objectGUID at
// newDN. guid is the user's objectGUID in canonical form.
func (dc *DC) Restore(t testing.TB, guid, newDN string) {
	t.Helper()
	dc.do(t, "restore "+guid, func(c *ldap.Conn) error {
		value, err := guidFilterValue(guid)
		if err != nil {
			return err
		}
		res, err := c.Search(ldap.NewSearchRequest("CN=Deleted Objects,"+dc.BaseDN, ldap.ScopeSingleLevel, ldap.NeverDerefAliases, 0, 0, false,
			"(&(isDeleted=TRUE)(objectGUID="+value+"))", []string{"1.1"}, []ldap.Control{showDeletedControl{}}))
		if err != nil {
			return fmt.Errorf("find the tombstone: %w", err)
		}
		if len(res.Entries) != 1 {
			return fmt.Errorf("find the tombstone: %d entries", len(res.Entries))
		}
		req := ldap.NewModifyRequest(res.Entries[0].DN, []ldap.Control{showDeletedControl{}})
		req.Delete("isDeleted", nil)
		req.Replace("distinguishedName", []string{newDN})
		return c.Modify(req)
	})
}

// showDeletedControl is LDAP_SERVER_SHOW_DELETED_OID.
type showDeletedControl struct{}

func (showDeletedControl) GetControlType() string { return "1.2.840.113556.1.4.417" }
func (showDeletedControl) String() string         { return "show deleted" }
func (showDeletedControl) Encode() *ber.Packet {
	p := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "Control")
	p.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "1.2.840.113556.1.4.417", "Control Type"))
	p.AppendChild(ber.NewBoolean(ber.ClassUniversal, ber.TypePrimitive, ber.TagBoolean, true, "Criticality"))
	return p
}

// AddOU adds organizationalUnit OU=<name> under parentDN and returns its DN
// (it goes with its parent: NewOU's clean-up deletes the tree).
func (dc *DC) AddOU(t testing.TB, parentDN, name string) string {
	t.Helper()
	dn := "OU=" + ldap.EscapeDN(name) + "," + parentDN
	dc.do(t, "add OU "+dn, func(c *ldap.Conn) error {
		req := ldap.NewAddRequest(dn, nil)
		req.Attribute("objectClass", []string{"organizationalUnit"})
		return c.Add(req)
	})
	return dn
}

// RenameRDN gives dn the RDN newRDN (e.g. "CN=New Name") under the same
// parent and returns the new DN.
func (dc *DC) RenameRDN(t testing.TB, dn, newRDN string) string {
	t.Helper()
	parsed, err := ldap.ParseDN(dn)
	if err != nil || len(parsed.RDNs) < 2 {
		t.Fatalf("testenv: rename %s: not a DN with a parent: %v", dn, err)
	}
	parent := &ldap.DN{RDNs: parsed.RDNs[1:]}
	dc.do(t, "rename "+dn, func(c *ldap.Conn) error {
		return c.ModifyDN(ldap.NewModifyDNRequest(dn, newRDN, true, ""))
	})
	return newRDN + "," + parent.String()
}

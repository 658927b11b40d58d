package ldapdir

import (
	"fmt"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// pagingControl is the RFC 2696 simple paged results control sent as
// critical (go-ldap's ControlPaging is never critical): a server that cannot
// page must refuse the search rather than silently ignore the control.
type pagingControl struct {
	size   uint32
	cookie []byte
}

func (c *pagingControl) GetControlType() string { return ldap.ControlTypePaging }

func (c *pagingControl) Encode() *ber.Packet {
	p := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "Control")
	p.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, ldap.ControlTypePaging, "Control Type (Paging)"))
	p.AppendChild(ber.NewBoolean(ber.ClassUniversal, ber.TypePrimitive, ber.TagBoolean, true, "Criticality"))
	value := ber.Encode(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, nil, "Control Value (Paging)")
	seq := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "Search Control Value")
	seq.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, int64(c.size), "Paging Size"))
	cookie := ber.Encode(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, nil, "Cookie")
	cookie.Value = c.cookie
	cookie.Data.Write(c.cookie)
	seq.AppendChild(cookie)
	value.AppendChild(seq)
	p.AppendChild(value)
	return p
}

func (c *pagingControl) String() string {
	return fmt.Sprintf("Control Type: Paging (%q) Criticality: true PagingSize: %d Cookie: %q",
		ldap.ControlTypePaging, c.size, c.cookie)
}

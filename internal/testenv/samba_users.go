package testenv

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/go-ldap/ldap/v3"
)

// ADUser describes a user to create in the DC.
//
// No password is set: Samba (unlike Windows AD) accepts enabled users
// (userAccountControl 512) without one when an administrator adds them, and
// nothing in these tests signs in as them.
type ADUser struct {
	CN          string // required; may contain commas and non-ASCII
	SAM         string // sAMAccountName, required, at most 20 characters
	GivenName   string
	Surname     string
	DisplayName string
	Mail        string
	UPN         string // userPrincipalName; empty = none
	Disabled    bool   // userAccountControl 514 instead of 512
	// AccountExpires is when the account expires; zero = never.
	AccountExpires time.Time
}

// userAccountControl flags used here.
const (
	uacAccountDisable = 0x2
	uacNormalAccount  = 0x200
)

// AddUsers creates users under parentDN and returns their DNs in order.
func (dc *SambaDC) AddUsers(t testing.TB, parentDN string, users ...ADUser) []string {
	t.Helper()
	dns := make([]string, 0, len(users))
	for _, u := range users {
		if u.CN == "" || u.SAM == "" {
			t.Fatalf("testenv: ADUser needs CN and SAM: %+v", u)
		}
		dn := "CN=" + ldap.EscapeDN(u.CN) + "," + parentDN
		dc.do(t, "add user "+dn, func(c *ldap.Conn) error {
			return c.Add(adUserAddRequest(dn, u))
		})
		dns = append(dns, dn)
	}
	return dns
}

func adUserAddRequest(dn string, u ADUser) *ldap.AddRequest {
	req := ldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{"user"})
	req.Attribute("sAMAccountName", []string{u.SAM})
	uac := uacNormalAccount
	if u.Disabled {
		uac |= uacAccountDisable
	}
	req.Attribute("userAccountControl", []string{strconv.Itoa(uac)})
	if !u.AccountExpires.IsZero() {
		req.Attribute("accountExpires", []string{fileTime(u.AccountExpires)})
	}
	for _, a := range []struct{ name, value string }{
		{"givenName", u.GivenName},
		{"sn", u.Surname},
		{"displayName", u.DisplayName},
		{"mail", u.Mail},
		{"userPrincipalName", u.UPN},
	} {
		if a.value != "" {
			req.Attribute(a.name, []string{a.value})
		}
	}
	return req
}

// SetDisabled sets or clears the ACCOUNTDISABLE bit of userAccountControl.
func (dc *SambaDC) SetDisabled(t testing.TB, dn string, disabled bool) {
	t.Helper()
	dc.do(t, "set disabled on "+dn, func(c *ldap.Conn) error {
		e, err := readEntry(c, dn, "userAccountControl")
		if err != nil {
			return err
		}
		uac, err := strconv.Atoi(e.GetAttributeValue("userAccountControl"))
		if err != nil {
			return fmt.Errorf("userAccountControl of %s: %w", dn, err)
		}
		if disabled {
			uac |= uacAccountDisable
		} else {
			uac &^= uacAccountDisable
		}
		req := ldap.NewModifyRequest(dn, nil)
		req.Replace("userAccountControl", []string{strconv.Itoa(uac)})
		return c.Modify(req)
	})
}

// Delete deletes dn (and anything below it).
func (dc *SambaDC) Delete(t testing.TB, dn string) {
	t.Helper()
	dc.do(t, "delete "+dn, func(c *ldap.Conn) error {
		err := c.Del(ldap.NewDelRequest(dn, []ldap.Control{ldap.NewControlSubtreeDelete()}))
		if err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		return nil
	})
}

// Move moves dn under newParentDN, keeping its RDN, and returns the new DN.
func (dc *SambaDC) Move(t testing.TB, dn, newParentDN string) string {
	t.Helper()
	rdn, err := firstRDN(dn)
	if err != nil {
		t.Fatalf("testenv: move %s: %v", dn, err)
	}
	dc.do(t, "move "+dn, func(c *ldap.Conn) error {
		return c.ModifyDN(ldap.NewModifyDNRequest(dn, rdn, true, newParentDN))
	})
	return rdn + "," + newParentDN
}

// Rename changes the sAMAccountName of dn to newSAM and, when the user has a
// userPrincipalName, its name part (keeping the suffix).
func (dc *SambaDC) Rename(t testing.TB, dn, newSAM string) {
	t.Helper()
	dc.do(t, "rename "+dn, func(c *ldap.Conn) error {
		e, err := readEntry(c, dn, "userPrincipalName")
		if err != nil {
			return err
		}
		req := ldap.NewModifyRequest(dn, nil)
		req.Replace("sAMAccountName", []string{newSAM})
		if upn := e.GetAttributeValue("userPrincipalName"); upn != "" {
			suffix := sambaUPNSuffix
			if _, s, ok := strings.Cut(upn, "@"); ok {
				suffix = s
			}
			req.Replace("userPrincipalName", []string{newSAM + "@" + suffix})
		}
		return c.Modify(req)
	})
}

// Modify replaces attr of dn with values; no values deletes the attribute.
func (dc *SambaDC) Modify(t testing.TB, dn, attr string, values ...string) {
	t.Helper()
	dc.do(t, "modify "+attr+" of "+dn, func(c *ldap.Conn) error {
		req := ldap.NewModifyRequest(dn, nil)
		req.Replace(attr, values)
		return c.Modify(req)
	})
}

// AddGroup creates a global security group named cn under parentDN and
// returns its DN. Its sAMAccountName is derived from cn.
func (dc *SambaDC) AddGroup(t testing.TB, parentDN, cn string) string {
	t.Helper()
	dn := "CN=" + ldap.EscapeDN(cn) + "," + parentDN
	dc.do(t, "add group "+dn, func(c *ldap.Conn) error {
		req := ldap.NewAddRequest(dn, nil)
		req.Attribute("objectClass", []string{"group"})
		req.Attribute("sAMAccountName", []string{uniqueName(cn, 40)})
		return c.Add(req)
	})
	return dn
}

// AddMember adds memberDN to the member attribute of groupDN.
func (dc *SambaDC) AddMember(t testing.TB, groupDN, memberDN string) {
	t.Helper()
	dc.do(t, "add member to "+groupDN, func(c *ldap.Conn) error {
		req := ldap.NewModifyRequest(groupDN, nil)
		req.Add("member", []string{memberDN})
		return c.Modify(req)
	})
}

// Attr returns the values of attr of dn as read over LDAP.
func (dc *SambaDC) Attr(t testing.TB, dn, attr string) []string {
	t.Helper()
	var vals []string
	dc.do(t, "read "+attr+" of "+dn, func(c *ldap.Conn) error {
		e, err := readEntry(c, dn, attr)
		if err != nil {
			return err
		}
		vals = e.GetEqualFoldAttributeValues(attr)
		return nil
	})
	return vals
}

// readEntry reads attrs of the single entry dn.
func readEntry(c *ldap.Conn, dn string, attrs ...string) (*ldap.Entry, error) {
	res, err := c.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		0, 0, false, "(objectClass=*)", attrs, nil))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dn, err)
	}
	if len(res.Entries) != 1 {
		return nil, fmt.Errorf("read %s: %d entries", dn, len(res.Entries))
	}
	return res.Entries[0], nil
}

// firstRDN returns the first RDN of dn, re-escaped, e.g. `CN=Smith\, John`.
func firstRDN(dn string) (string, error) {
	parsed, err := ldap.ParseDN(dn)
	if err != nil {
		return "", fmt.Errorf("parse DN: %w", err)
	}
	if len(parsed.RDNs) == 0 {
		return "", fmt.Errorf("empty DN")
	}
	parts := make([]string, 0, len(parsed.RDNs[0].Attributes))
	for _, a := range parsed.RDNs[0].Attributes {
		parts = append(parts, a.Type+"="+ldap.EscapeDN(a.Value))
	}
	return strings.Join(parts, "+"), nil
}

// SetPassword sets a user's password (unicodePwd, over the TLS
// connection Active Directory requires for it).
func (dc *SambaDC) SetPassword(t testing.TB, dn, password string) {
	t.Helper()
	quoted := utf16.Encode([]rune(`"` + password + `"`))
	raw := make([]byte, 0, 2*len(quoted))
	for _, u := range quoted {
		raw = append(raw, byte(u), byte(u>>8))
	}
	dc.Modify(t, dn, "unicodePwd", string(raw))
}

package samba

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/go-ldap/ldap/v3"

	"github.com/adsync/adsync/internal/testenv"
)

// User describes a user to create in the DC.
//
// No password is set: Samba (unlike Windows AD) accepts enabled users
// (userAccountControl 512) without one when an administrator adds them, and
// nothing in these tests signs in as them.
type User struct {
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
func (dc *DC) AddUsers(t testing.TB, parentDN string, users ...User) []string {
	t.Helper()
	dns := make([]string, 0, len(users))
	for _, u := range users {
		if u.CN == "" || u.SAM == "" {
			t.Fatalf("testenv: User needs CN and SAM: %+v", u)
		}
		dn := "CN=" + ldap.EscapeDN(u.CN) + "," + parentDN
		dc.do(t, "add user "+dn, func(c *ldap.Conn) error {
			return c.Add(adUserAddRequest(dn, u))
		})
		dns = append(dns, dn)
	}
	return dns
}

func adUserAddRequest(dn string, u User) *ldap.AddRequest {
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
func (dc *DC) SetDisabled(t testing.TB, dn string, disabled bool) {
	t.Helper()
	dc.do(t, "set disabled on "+dn, func(c *ldap.Conn) error {
		e, err := testenv.ReadEntry(c, dn, "userAccountControl")
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
func (dc *DC) Delete(t testing.TB, dn string) {
	t.Helper()
	dc.do(t, "delete "+dn, func(c *ldap.Conn) error {
		err := c.Del(ldap.NewDelRequest(dn, []ldap.Control{ldap.NewControlSubtreeDelete()}))
		if err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		return nil
	})
}

// Rename changes the sAMAccountName of dn to newSAM and, when the user has a
// userPrincipalName, its name part (keeping the suffix).
func (dc *DC) Rename(t testing.TB, dn, newSAM string) {
	t.Helper()
	dc.do(t, "rename "+dn, func(c *ldap.Conn) error {
		e, err := testenv.ReadEntry(c, dn, "userPrincipalName")
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

// AddGroup creates a global security group named cn under parentDN and
// returns its DN. Its sAMAccountName is derived from cn.
func (dc *DC) AddGroup(t testing.TB, parentDN, cn string) string {
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

// SetPassword sets a user's password (unicodePwd, over the TLS
// connection Active Directory requires for it).
func (dc *DC) SetPassword(t testing.TB, dn, password string) {
	t.Helper()
	quoted := utf16.Encode([]rune(`"` + password + `"`))
	raw := make([]byte, 0, 2*len(quoted))
	for _, u := range quoted {
		raw = append(raw, byte(u), byte(u>>8))
	}
	dc.Modify(t, dn, "unicodePwd", string(raw))
}

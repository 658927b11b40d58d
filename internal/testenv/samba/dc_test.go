package samba

import (
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/adsync/adsync/internal/testenv"
)

func TestSambaHelpers(t *testing.T) {
	dc := Start(t)
	ou := dc.NewOU(t)
	sfx := randomHex(3)

	dns := dc.AddUsers(t, ou,
		User{CN: "Smith, John", SAM: "jsmith-" + sfx, GivenName: "John", Surname: "Smith", UPN: "jsmith-" + sfx + "@corp.example.com"},
		User{CN: "Zoë Ångström", SAM: "zoe-" + sfx, GivenName: "Zoë", Surname: "Ångström", DisplayName: "Zoë Ångström"},
		User{CN: "Old Timer", SAM: "old-" + sfx, Disabled: true, AccountExpires: time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)},
	)

	t.Run("escaped DN", func(t *testing.T) {
		if want := `CN=Smith\, John,` + ou; dns[0] != want {
			t.Fatalf("DN = %q, want %q", dns[0], want)
		}
		if got := dc.Attr(t, dns[1], "sn"); len(got) != 1 || got[0] != "Ångström" {
			t.Fatalf("sn = %q", got)
		}
	})
	t.Run("GUID matches ldbsearch", func(t *testing.T) {
		for _, dn := range dns {
			viaLDAP, viaLDB := dc.GUID(t, dn), dc.GUIDFromLDB(t, dn)
			if viaLDAP != viaLDB || len(viaLDAP) != 36 {
				t.Errorf("%s: LDAP %q, ldbsearch %q", dn, viaLDAP, viaLDB)
			}
		}
	})
	t.Run("disabled and expiry", func(t *testing.T) {
		if got := dc.Attr(t, dns[2], "userAccountControl"); len(got) != 1 || got[0] != "514" {
			t.Fatalf("uac = %q", got)
		}
		if got := dc.Attr(t, dns[2], "accountExpires"); len(got) != 1 || got[0] != "126227808000000000" {
			t.Fatalf("accountExpires = %q", got)
		}
		dc.SetDisabled(t, dns[2], false)
		if got := dc.Attr(t, dns[2], "userAccountControl"); got[0] != "512" {
			t.Fatalf("uac after enable = %q", got)
		}
	})
	t.Run("rename, move, modify, groups, delete", func(t *testing.T) {
		dc.Rename(t, dns[0], "jsr-"+sfx)
		if got := dc.Attr(t, dns[0], "userPrincipalName"); got[0] != "jsr-"+sfx+"@corp.example.com" {
			t.Fatalf("upn = %q", got)
		}
		sub := "OU=sub," + ou
		dc.do(t, "add sub", func(c *ldap.Conn) error {
			r := ldap.NewAddRequest(sub, nil)
			r.Attribute("objectClass", []string{"organizationalUnit"})
			return c.Add(r)
		})
		moved := dc.Move(t, dns[0], sub)
		if moved != `CN=Smith\, John,`+sub {
			t.Fatalf("moved = %q", moved)
		}
		dc.Modify(t, moved, "mail", "x@example.com")
		g := dc.AddGroup(t, ou, "Team, Blue")
		dc.AddMember(t, g, moved)
		if got := dc.Attr(t, moved, "memberOf"); len(got) != 1 || !strings.EqualFold(got[0], g) {
			t.Fatalf("memberOf = %q, want %q", got, g)
		}
		dc.Delete(t, dns[1])
		dc.do(t, "check deleted", func(c *ldap.Conn) error {
			_, err := testenv.ReadEntry(c, dns[1], "cn")
			if !ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
				t.Errorf("read deleted entry: %v", err)
			}
			return nil
		})
	})
}

func TestSambaBulkAddUsers(t *testing.T) {
	dc := Start(t)
	ou := dc.NewOU(t)
	const n = 200
	start := time.Now()
	dc.BulkAddUsers(t, ou, n, "bt"+randomHex(3)+"-")
	d := time.Since(start)
	t.Logf("bulk-added %d users in %v (%.0f users/s)", n, d.Round(time.Millisecond), n/d.Seconds())
}

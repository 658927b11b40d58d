package ldapdir

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/adsync/adsync/internal/testenv/samba"
	"github.com/adsync/adsync/internal/testenv/slapd"
)

// A directory user signs in to the console with their own password; the
// groups they are in, nested ones included, come back; a wrong password,
// an unknown user, a disabled user and an empty password are refused.
func TestAuthenticateOnActiveDirectory(t *testing.T) {
	dc := samba.Start(t)
	ou := dc.NewOU(t)
	users := dc.AddUsers(t, ou, samba.User{CN: "Ann Admin", SAM: "ann" + ou[3:9]}, samba.User{CN: "Off Line", SAM: "off" + ou[3:9]})
	ann, off := users[0], users[1]
	const pw = "Corr3ct-Horse-2026!"
	dc.SetPassword(t, ann, pw)
	dc.SetPassword(t, off, pw)
	dc.SetDisabled(t, off, true)
	admins := dc.AddGroup(t, ou, "Console Admins "+ou[3:9])
	ops := dc.AddGroup(t, ou, "Console Ops "+ou[3:9])
	other := dc.AddGroup(t, ou, "Other "+ou[3:9])
	dc.AddMember(t, admins, ops) // ann is in admins through ops
	dc.AddMember(t, ops, ann)
	cfg := adConfig(dc, ou)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dn, member, err := Authenticate(ctx, cfg, "ann"+ou[3:9], pw, []string{admins, other})
	if err != nil || dn != ann || !slices.Equal(member, []string{admins}) {
		t.Fatalf("ann: %s %v %v", dn, member, err)
	}
	for _, c := range []struct{ user, password string }{
		{"ann" + ou[3:9], "wrong-password-1"}, {"nobody" + ou[3:9], pw}, {"off" + ou[3:9], pw}, {"ann" + ou[3:9], ""},
		{"*", pw}, // a filter in the name finds nobody
	} {
		if _, _, err := Authenticate(ctx, cfg, c.user, c.password, []string{admins}); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("%s: %v, want ErrBadCredentials", c.user, err)
		}
	}
}

func TestAuthenticateOnOpenLDAP(t *testing.T) {
	s := slapd.Start(t, slapd.WithUsers(3))
	user := "uid=user0000001," + s.UsersDN
	s.Modify(t, user, "userPassword", "ldap-password-1")
	inner := s.AddGroup(t, "helpdesk", user)
	outer := s.AddGroup(t, "operators", inner)
	unrelated := s.AddGroup(t, "others", "uid=user0000002,"+s.UsersDN)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dn, member, err := Authenticate(ctx, ldapConfig(s), "user0000001", "ldap-password-1", []string{outer, unrelated})
	if err != nil || dn != user || !slices.Equal(member, []string{outer}) {
		t.Fatalf("user0000001: %s %v %v", dn, member, err)
	}
	if _, _, err := Authenticate(ctx, ldapConfig(s), "user0000001", "wrong", nil); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
	if _, _, err := Authenticate(ctx, ldapConfig(s), "user0000002", "anything", nil); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("a user without a password: %v", err)
	}
}

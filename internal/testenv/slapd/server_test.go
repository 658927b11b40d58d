package slapd

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/adsync/adsync/internal/testenv"
)

func TestSlapd(t *testing.T) {
	t.Parallel()
	s := Start(t, WithUsers(50))

	t.Run("preloaded users have entryUUID", func(t *testing.T) {
		dn := "uid=user0000050," + s.UsersDN
		if got := s.Attr(t, dn, "cn"); len(got) != 1 || got[0] != "User 50" {
			t.Fatalf("cn = %q", got)
		}
		if u := s.EntryUUID(t, dn); len(u) != 36 {
			t.Fatalf("entryUUID = %q", u)
		}
	})
	t.Run("preloaded users with random ids keep them", func(t *testing.T) {
		r := Start(t, WithUsers(20), WithRandomIDs())
		for _, i := range []int{1, 7, 20} {
			if got, want := r.EntryUUID(t, fmt.Sprintf("uid=user%07d,%s", i, r.UsersDN)), testenv.RandomUUID(i); got != want {
				t.Fatalf("entryUUID of user %d = %q, want %q", i, got, want)
			}
		}
	})
	t.Run("preloaded users in groups, both sides", func(t *testing.T) {
		const n, k = 250, 3
		r := Start(t, WithUsers(n), WithGroups(k))
		memberOf := map[string][]string{} // user DN -> its groups, as the server has them
		for i := 1; i <= n; i++ {
			dn := fmt.Sprintf("uid=user%07d,%s", i, r.UsersDN)
			memberOf[dn] = r.Attr(t, dn, "memberOf")
			if len(memberOf[dn]) != k {
				t.Fatalf("%s is in %d groups, want %d: %q", dn, len(memberOf[dn]), k, memberOf[dn])
			}
		}
		members := 0
		for grp := range 100 {
			g := fmt.Sprintf("cn=group-%03d,%s", grp, r.GroupsDN)
			list := r.Attr(t, g, "member")
			if len(list) == 0 {
				t.Fatalf("%s has no member", g)
			}
			for _, m := range list {
				if !slices.Contains(memberOf[m], g) {
					t.Fatalf("%s lists %s, whose memberOf %q does not name it", g, m, memberOf[m])
				}
			}
			members += len(list)
		}
		if members != n*k {
			t.Fatalf("%d memberships on the groups' side, want %d", members, n*k)
		}
	})
	t.Run("online helpers", func(t *testing.T) {
		dn := s.AddUser(t, User{UID: "zoe", CN: "Zoë Ångström, Jr.", GivenName: "Zoë", Surname: "Ångström"})
		g := s.AddGroup(t, "staff", dn)
		if got := s.Attr(t, dn, "memberOf"); len(got) != 1 || got[0] != g {
			t.Fatalf("memberOf = %q, want %q", got, g)
		}
		s.Modify(t, dn, "mail", "zoe@example.org")
		ou := s.AddOU(t, "moved")
		before := s.EntryUUID(t, dn)
		moved := s.Move(t, dn, ou)
		if moved != "uid=zoe,"+ou || s.EntryUUID(t, moved) != before {
			t.Fatalf("moved to %q, uuid changed", moved)
		}
		noUID := s.AddUser(t, User{CN: "No, Uid"})
		if noUID != `cn=No\, Uid,`+s.UsersDN {
			t.Fatalf("dn = %q", noUID)
		}
		s.Delete(t, noUID)
	})
	t.Run("stop and start keep ports and data", func(t *testing.T) {
		url := s.LDAPSURL
		s.Stop(t)
		if _, err := testenv.DialAdmin(url, s.CAFile, s.ServerName, s.BindDN, s.Password, time.Second); err == nil {
			t.Fatal("bind worked while slapd was stopped")
		}
		s.Start(t)
		if s.LDAPSURL != url {
			t.Fatalf("url changed: %s -> %s", url, s.LDAPSURL)
		}
		if got := s.Attr(t, "uid=user0000001,"+s.UsersDN, "uid"); len(got) != 1 {
			t.Fatalf("data lost: %q", got)
		}
	})
	t.Run("StartTLS on ldap://", func(t *testing.T) {
		c, err := ldap.DialURL(s.LDAPURL)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.StartTLS(tlsConfigFor(t, s.CAFile, s.ServerName)); err != nil {
			t.Fatal(err)
		}
		if err := c.Bind(s.BindDN, s.Password); err != nil {
			t.Fatal(err)
		}
	})
}

func TestWriteUsersLDIF(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := WriteUsersLDIF(&buf, "dc=example,dc=org", 2, false, false, 0); err != nil {
		t.Fatal(err)
	}
	want := `dn: uid=user0000001,ou=people,dc=example,dc=org
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: inetOrgPerson
uid: user0000001
cn: User 1
givenName: Given1
sn: Surname1
displayName: Display User 1
mail: user0000001@example.org
`
	if got := strings.SplitAfter(buf.String(), "\n\n")[0]; got != want+"\n" {
		t.Fatalf("first entry:\n%s\nwant:\n%s", got, want)
	}

	t.Run("random ids", func(t *testing.T) {
		var buf bytes.Buffer
		if err := WriteUsersLDIF(&buf, "dc=example,dc=org", 1000, true, false, 0); err != nil {
			t.Fatal(err)
		}
		if first := strings.SplitAfter(buf.String(), "\n\n")[0]; !strings.HasSuffix(first, "mail: user0000001@example.org\nentryUUID: "+testenv.RandomUUID(1)+"\n\n") {
			t.Fatalf("first entry:\n%s\nwant it to end with entryUUID %s", first, testenv.RandomUUID(1))
		}
		var ids []string
		for _, line := range strings.Split(buf.String(), "\n") {
			if id, ok := strings.CutPrefix(line, "entryUUID: "); ok {
				ids = append(ids, id)
			}
		}
		distinct := map[string]bool{}
		ascending := 0
		for i, id := range ids {
			distinct[id] = true
			if len(id) != 36 || id[14] != '4' || !strings.ContainsRune("89ab", rune(id[19])) {
				t.Fatalf("id %q is not a version 4 UUID", id)
			}
			if i > 0 && id > ids[i-1] {
				ascending++
			}
		}
		// In order, 999 of 999 steps would go up; at random about half.
		if len(ids) != 1000 || len(distinct) != 1000 || ascending > 600 || ascending < 400 {
			t.Fatalf("%d ids, %d distinct, %d of %d steps ascending: want 1000 distinct ids in no order", len(ids), len(distinct), ascending, len(ids)-1)
		}
	})

	t.Run("shuffled names", func(t *testing.T) {
		for _, n := range []int{1, 2, 26, 1000, 1_000_000} {
			order, seen, ascending := NameOrder(n), make([]bool, n+1), 0
			for k := 1; k <= n; k++ {
				i := order(k)
				if i < 1 || i > n || seen[i] {
					t.Fatalf("n=%d: user %d comes at %d: out of range or twice", n, i, k)
				}
				seen[i] = true
				if k > 1 && i > order(k-1) {
					ascending++
				}
			}
			// In order, every step would go up.
			if n >= 1000 && (ascending > n*3/4 || ascending < n/4) {
				t.Fatalf("n=%d: %d of %d steps go up: names in order", n, ascending, n-1)
			}
		}
		var buf bytes.Buffer
		if err := WriteUsersLDIF(&buf, "dc=example,dc=org", 1000, false, true, 0); err != nil {
			t.Fatal(err)
		}
		if first := strings.SplitAfter(buf.String(), "\n\n")[1]; !strings.HasPrefix(first, fmt.Sprintf("dn: uid=user%07d,", NameOrder(1000)(2))) {
			t.Fatalf("second entry:\n%s\nwant user %d", first, NameOrder(1000)(2))
		}
	})

	t.Run("a million users stream", func(t *testing.T) {
		if testing.Short() {
			t.Skip("short")
		}
		cw := &countingWriter{}
		start := time.Now()
		if err := WriteUsersLDIF(cw, "dc=example,dc=org", 1_000_000, false, false, 0); err != nil {
			t.Fatal(err)
		}
		t.Logf("1,000,000 users: %d MB of LDIF in %v", cw.n>>20, time.Since(start).Round(time.Millisecond))
	})
}

// TestSlapdMillion loads 1,000,000 users; it takes a while, so it runs only
// with ADSYNC_TESTENV_LARGE=1.
func TestSlapdMillion(t *testing.T) {
	if os.Getenv("ADSYNC_TESTENV_LARGE") == "" {
		t.Skip("set ADSYNC_TESTENV_LARGE=1 to load 1,000,000 users into slapd")
	}
	start := time.Now()
	s := Start(t, WithUsers(1_000_000))
	t.Logf("slapadd + start of 1,000,000 users: %v", time.Since(start).Round(time.Millisecond))
	if got := s.Attr(t, "uid=user1000000,"+s.UsersDN, "uid"); len(got) != 1 {
		t.Fatalf("last user missing: %q", got)
	}
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

var _ io.Writer = (*countingWriter)(nil)

package ldapdir

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/testenv/slapd"
)

func TestReadGenericLDAP(t *testing.T) {
	t.Parallel()
	s := slapd.Start(t, slapd.WithUsers(25))
	zoe := s.AddUser(t, slapd.User{UID: "zoe", CN: "Zoë Ångström", GivenName: "Zoë", Surname: "Ångström",
		DisplayName: "Zoë Å.", Mail: "zoe@example.org"})
	comma := s.AddUser(t, slapd.User{UID: "jsmith", CN: "Smith, John", Surname: "Smith"})
	noUID := s.AddUser(t, slapd.User{CN: "No Uid"})
	group := s.AddGroup(t, "staff", zoe, comma)

	t.Run("defaults with no settings", func(t *testing.T) {
		got, st := readAll(t, ldapConfig(s))
		if len(got) != 27 || st.Skipped != 1 || st.Pages != 1 {
			t.Fatalf("read %d, stats %+v", len(got), st)
		}
		if st.SkippedSample[0].DN != noUID || st.SkippedSample[0].Reason != "no uid" {
			t.Fatalf("skipped %+v", st.SkippedSample)
		}
		z := got["zoe"]
		want := events.DirectoryEntry{ID: s.EntryUUID(t, zoe), DN: zoe, Username: "zoe", Email: "zoe@example.org",
			DisplayName: "Zoë Å.", GivenName: "Zoë", Surname: "Ångström", Groups: []string{group}}
		if !equalEntry(z, want) {
			t.Fatalf("zoe = %+v\nwant %+v", z, want)
		}
		if j := got["jsmith"]; j.DN != comma || j.DisplayName != "Smith, John" || j.Disabled {
			t.Fatalf("jsmith = %+v (display name falls back to cn)", j)
		}
		if u := got["user0000025"]; u.DisplayName != "Display User 25" || u.Email != "user0000025@example.org" || len(u.ID) != 36 {
			t.Fatalf("user25 = %+v", u)
		}
	})
	t.Run("StartTLS and plaintext", func(t *testing.T) {
		tests := []struct {
			name      string
			url       string
			plaintext bool
			wantTLS   bool
		}{
			{"StartTLS", s.LDAPURL, false, true},
			{"insecure plaintext", s.LDAPURL, true, false},
			{"ldaps ignores insecure_plaintext", s.LDAPSURL, true, true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				cfg := ldapConfig(s)
				cfg.URL, cfg.InsecurePlaintext = tt.url, tt.plaintext
				c := dial(t, cfg)
				if _, ok := c.l.TLSConnectionState(); ok != tt.wantTLS {
					t.Fatalf("TLS = %t, want %t", ok, tt.wantTLS)
				}
			})
		}
	})
	t.Run("attribute overrides", func(t *testing.T) {
		cfg := ldapConfig(s)
		cfg.UserFilter = "(&(objectClass=inetOrgPerson)(mail=*))"
		cfg.Attributes = Attributes{ID: "uid", Username: "mail", DisplayName: "cn", Email: "uid", UPN: "mail"}
		got, st := readAll(t, cfg)
		z, ok := got["zoe@example.org"]
		if !ok || len(got) != 26 || st.Skipped != 0 {
			t.Fatalf("read %d, stats %+v", len(got), st)
		}
		if z.ID != "zoe" || z.DisplayName != "Zoë Ångström" || z.Email != "zoe" || z.UPN != "zoe@example.org" {
			t.Fatalf("zoe = %+v", z)
		}
	})
	t.Run("disabled_filter", func(t *testing.T) {
		s.Modify(t, comma, "description", "disabled")
		cfg := ldapConfig(s)
		cfg.DisabledFilter = "(description=disabled)"
		got, st := readAll(t, cfg)
		if len(got) != 27 || st.Pages != 2 || st.Skipped != 1 {
			t.Fatalf("read %d, stats %+v", len(got), st)
		}
		for name, e := range got {
			want := name == "jsmith"
			if e.Disabled != want || (want && e.DisabledReason != events.ReasonDirectoryDisabled) {
				t.Errorf("%s: Disabled %t %q", name, e.Disabled, e.DisabledReason)
			}
		}
	})
}

func TestTLSServerNameOverride(t *testing.T) {
	t.Parallel()
	// The certificate names only ldap.example.org; we dial the IP.
	s := slapd.Start(t, slapd.WithCertNames([]string{"ldap.example.org"}, []net.IP{}))
	tests := []struct {
		name       string
		serverName string
		wantErr    string
	}{
		{"no override: the IP is not in the certificate", "", "cannot validate certificate for 127.0.0.1 because it doesn't contain any IP SANs"},
		{"override with the certificate's name", "ldap.example.org", ""},
		{"override with another name", "other.example.org", "certificate is valid for ldap.example.org, not other.example.org"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ldapConfig(s)
			cfg.TLSServerName = tt.serverName
			c, err := Dial(context.Background(), cfg)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				c.Close()
				return
			}
			if err == nil {
				c.Close()
				t.Fatal("Dial succeeded")
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "check tls_server_name") || IsTransient(err) {
				t.Fatalf("error %q (transient %t), want %q", err, IsTransient(err), tt.wantErr)
			}
		})
	}
}

func TestReadStopsWhenServerGoesAway(t *testing.T) {
	t.Parallel()
	s := slapd.Start(t, slapd.WithUsers(200))
	cfg := ldapConfig(s)
	cfg.PageSize = 10
	c := dial(t, cfg)
	calls := 0
	st, err := c.SearchUsers(context.Background(), func(page []events.DirectoryEntry) error {
		calls++
		if calls == 1 {
			s.Stop(t)
		}
		return nil
	})
	t.Logf("error after %d pages: %v", calls, err)
	if err == nil {
		t.Fatalf("read completed after the server stopped: %+v", st)
	}
	if !IsTransient(err) || !errors.Is(err, ErrConnectionLost) {
		t.Fatalf("IsTransient = %t, ErrConnectionLost = %t", IsTransient(err), errors.Is(err, ErrConnectionLost))
	}
	if st.Entries >= 200 || calls > 3 {
		t.Fatalf("stats %+v after %d calls", st, calls)
	}
	for _, want := range []string{`domain "ldap": search ` + s.LDAPSURL, "connection to the directory was lost"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q", want)
		}
	}

	s.Start(t)
	_, err = Dial(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Dial after restart: %v", err)
	}
}

func TestReadStopsOnCallerRequest(t *testing.T) {
	t.Parallel()
	s := slapd.Start(t, slapd.WithUsers(500))
	cfg := ldapConfig(s)
	cfg.PageSize = 20
	errStop := errors.New("enough")

	t.Run("callback error", func(t *testing.T) {
		c := dial(t, cfg)
		calls := 0
		st, err := c.SearchUsers(context.Background(), func(page []events.DirectoryEntry) error {
			calls++
			return errStop
		})
		if !errors.Is(err, errStop) || calls != 1 || st.Entries != 0 {
			t.Fatalf("err %v after %d calls, stats %+v", err, calls, st)
		}
		// The connection stays usable for the next read.
		got := 0
		if _, err := c.SearchUsers(context.Background(), func(page []events.DirectoryEntry) error {
			got += len(page)
			return nil
		}); err != nil || got != 500 {
			t.Fatalf("second read: %d users, %v", got, err)
		}
	})
	t.Run("context cancelled", func(t *testing.T) {
		c := dial(t, cfg)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		start := time.Now()
		st, err := c.SearchUsers(ctx, func(page []events.DirectoryEntry) error {
			cancel()
			return nil
		})
		if !errors.Is(err, context.Canceled) || IsTransient(err) || st.Entries != 20 {
			t.Fatalf("err %v (transient %t), stats %+v", err, IsTransient(err), st)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("took %v to stop", d)
		}
	})
}

func equalEntry(a, b events.DirectoryEntry) bool {
	if len(a.Groups) != len(b.Groups) {
		return false
	}
	for i := range a.Groups {
		if !strings.EqualFold(a.Groups[i], b.Groups[i]) {
			return false
		}
	}
	a.Groups, b.Groups = nil, nil
	return reflect.DeepEqual(a, b)
}

// TestPreparedUsersConnection: the users connection opened in the
// background (PrepareUsers, as the reader does) reads every user, and one
// closed before it is used is closed once it is open.
func TestPreparedUsersConnection(t *testing.T) {
	t.Parallel()
	s := slapd.Start(t, slapd.WithUsers(30))
	cfg := ldapConfig(s)
	cfg.PageSize = 7
	ctx := context.Background()

	t.Run("reads every user", func(t *testing.T) {
		c := dial(t, cfg)
		c.PrepareUsers(ctx)
		c.PrepareUsers(ctx) // a second call changes nothing
		n := 0
		st, err := c.SearchUsers(ctx, func(page []events.DirectoryEntry) error {
			n += len(page)
			return nil
		})
		if err != nil || n != 30 || st.Pages != 5 {
			t.Fatalf("read %d users, %+v, %v", n, st, err)
		}
	})
	t.Run("closed before the read", func(t *testing.T) {
		c, err := Dial(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		c.PrepareUsers(ctx)
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		// Both connections end: none is left open to the server. (Not
		// much later: a leaked connection is closed too, when the garbage
		// collector finds it, after seconds.)
		deadline := time.Now().Add(2 * time.Second)
		for n := establishedTo(t, s.LDAPSURL); n > 0; n = establishedTo(t, s.LDAPSURL) {
			if time.Now().After(deadline) {
				t.Fatalf("%d connections to %s still open after Close", n, s.LDAPSURL)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// establishedTo counts the established TCP connections to a server's port
// on this machine (/proc/net/tcp).
func establishedTo(t *testing.T, serverURL string) int {
	t.Helper()
	u, err := url.Parse(serverURL)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(":%04X", port)
	n := 0
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		raw, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(raw), "\n")[1:] {
			fields := strings.Fields(line)
			// local, remote, state (01: established); the client side
			// of a connection has the server's port as remote port.
			if len(fields) > 3 && strings.HasSuffix(fields[2], want) && fields[3] == "01" {
				n++
			}
		}
	}
	return n
}

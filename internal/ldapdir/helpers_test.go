package ldapdir

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/testenv/samba"
	"github.com/adsync/adsync/internal/testenv/slapd"
)

func adConfig(dc *samba.DC, baseDN string) Config {
	return Config{
		Name:         "corp",
		URL:          dc.LDAPSURL,
		CAFile:       dc.CAFile,
		BindDN:       dc.BindDN,
		BindPassword: dc.Password,
		BaseDN:       baseDN,
	}
}

func ldapConfig(s *slapd.Server) Config {
	return Config{
		Name:         "ldap",
		Type:         GenericLDAP,
		URL:          s.LDAPSURL,
		CAFile:       s.CAFile,
		BindDN:       s.BindDN,
		BindPassword: s.Password,
		BaseDN:       s.BaseDN,
	}
}

func dial(t testing.TB, cfg Config) *Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := Dial(ctx, cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readAll reads every user and returns them by username.
func readAll(t testing.TB, cfg Config) (map[string]events.DirectoryEntry, Stats) {
	t.Helper()
	c := dial(t, cfg)
	got := map[string]events.DirectoryEntry{}
	st, err := c.SearchUsers(context.Background(), func(page []events.DirectoryEntry) error {
		for _, e := range page {
			if _, dup := got[e.Username]; dup {
				t.Errorf("user %q delivered twice", e.Username)
			}
			got[e.Username] = e
		}
		return nil
	})
	if err != nil {
		t.Fatalf("SearchUsers: %v", err)
	}
	if st.Entries != len(got) {
		t.Fatalf("Stats.Entries = %d, delivered %d", st.Entries, len(got))
	}
	return got, st
}

// recorder is a TCP listener that records whether anyone connected and
// what they sent, optionally speaking TLS with the given certificate.
type recorder struct {
	ln       net.Listener
	mu       sync.Mutex
	accepted int
	data     []byte
	handle   func(*recorder, net.Conn) // optional: runs instead of readAll
}

// newRecorder starts the listener; handle (may be nil) gets each connection
// and the recorder, else the bytes received are recorded.
func newRecorder(t testing.TB, handle func(*recorder, net.Conn)) *recorder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{ln: ln, handle: handle}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.mu.Lock()
			r.accepted++
			r.mu.Unlock()
			go func() {
				defer c.Close()
				if r.handle != nil {
					r.handle(r, c)
					return
				}
				r.readAll(c)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return r
}

func (r *recorder) readAll(c net.Conn) {
	buf := make([]byte, 4096)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		n, err := c.Read(buf)
		r.mu.Lock()
		r.data = append(r.data, buf[:n]...)
		r.mu.Unlock()
		if err != nil {
			return
		}
	}
}

func (r *recorder) addr() string { return r.ln.Addr().String() }

func (r *recorder) snapshot() (int, []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.accepted, append([]byte(nil), r.data...)
}

// freeClosedPort returns a port on 127.0.0.1 that nothing listens on.
func freeClosedPort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

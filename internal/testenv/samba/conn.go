package samba

import (
	"fmt"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/adsync/adsync/internal/testenv"
)

// adminTimeout bounds the admin connection's dial and each of its
// requests (a tree delete has longer: deleteTreeTimeout).
const adminTimeout = 30 * time.Second

// withConn runs fn on the DC's shared admin LDAPS connection, dialling it
// on first use and once more if it turns out to have been dropped.
func (dc *DC) withConn(fn func(*ldap.Conn) error) error {
	dc.mu.Lock()
	defer dc.mu.Unlock()
	for attempt := 0; ; attempt++ {
		if dc.conn == nil || dc.conn.IsClosing() {
			conn, err := testenv.DialAdmin(dc.LDAPSURL, dc.CAFile, dc.ServerName, dc.BindDN, dc.Password, adminTimeout)
			if err != nil {
				return fmt.Errorf("admin connection: %w", err)
			}
			dc.conn = conn
		}
		err := fn(dc.conn)
		if err != nil && dc.conn.IsClosing() && attempt == 0 {
			dc.conn = nil
			continue
		}
		return err
	}
}

// do is withConn for helpers: it fails the test on error.
func (dc *DC) do(t testing.TB, what string, fn func(*ldap.Conn) error) {
	t.Helper()
	if err := dc.withConn(fn); err != nil {
		t.Fatalf("testenv: samba: %s: %v", what, err)
	}
}

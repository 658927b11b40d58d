package testenv

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// DialAdmin opens an LDAPS connection verified against caFile (with
// serverName as the expected certificate name) and binds as bindDN.
func DialAdmin(url, caFile, serverName, bindDN, password string, timeout time.Duration) (*ldap.Conn, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("read CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no certificate in %s", caFile)
	}
	tc := &tls.Config{RootCAs: pool, ServerName: serverName, MinVersion: tls.VersionTLS12}
	conn, err := ldap.DialURL(url,
		ldap.DialWithDialer(&net.Dialer{Timeout: timeout}),
		ldap.DialWithTLSConfig(tc))
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", url, err)
	}
	conn.SetTimeout(timeout)
	if err := conn.Bind(bindDN, password); err != nil {
		conn.Close()
		return nil, fmt.Errorf("bind %s as %s: %w", url, bindDN, err)
	}
	return conn, nil
}

// SearchAll returns the entries below base that match filter, with attrs,
// read in pages of 500.
func SearchAll(c *ldap.Conn, base, filter string, attrs []string) ([]*ldap.Entry, error) {
	res, err := c.SearchWithPaging(ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, filter, attrs, nil), 500)
	if err != nil {
		return nil, err
	}
	return res.Entries, nil
}

// RemoveMember deletes memberDN from the member attribute of groupDN.
func RemoveMember(c *ldap.Conn, groupDN, memberDN string) error {
	req := ldap.NewModifyRequest(groupDN, nil)
	req.Delete("member", []string{memberDN})
	return c.Modify(req)
}

// ReadEntry reads attrs of the single entry dn.
func ReadEntry(c *ldap.Conn, dn string, attrs ...string) (*ldap.Entry, error) {
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

// FirstRDN returns the first RDN of dn, re-escaped, e.g. `CN=Smith\, John`.
func FirstRDN(dn string) (string, error) {
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

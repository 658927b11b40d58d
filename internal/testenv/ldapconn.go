package testenv

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// dialAdmin opens an LDAPS connection verified against caFile (with
// serverName as the expected certificate name) and binds as bindDN.
func dialAdmin(url, caFile, serverName, bindDN, password string, timeout time.Duration) (*ldap.Conn, error) {
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

// searchAll returns the entries below base that match filter, with attrs,
// read in pages of 500.
func searchAll(c *ldap.Conn, base, filter string, attrs []string) ([]*ldap.Entry, error) {
	res, err := c.SearchWithPaging(ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, filter, attrs, nil), 500)
	if err != nil {
		return nil, err
	}
	return res.Entries, nil
}

// removeMember deletes memberDN from the member attribute of groupDN.
func removeMember(c *ldap.Conn, groupDN, memberDN string) error {
	req := ldap.NewModifyRequest(groupDN, nil)
	req.Delete("member", []string{memberDN})
	return c.Modify(req)
}

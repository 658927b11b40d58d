package ldapdir

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
)

// tlsConfig builds the one TLS configuration used for a directory: roots
// from CAFile (else the system pool), the expected server name from
// TLSServerName (else the URL host), TLS 1.2 or newer. Certificates are
// always verified.
func tlsConfig(c Config) (*tls.Config, error) {
	u, err := url.Parse(c.URL)
	if err != nil {
		return nil, fmt.Errorf("parse url: %w", err)
	}
	serverName := c.TLSServerName
	if serverName == "" {
		serverName = u.Hostname()
	}
	tc := &tls.Config{ServerName: serverName, MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pool, err := loadCAFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

// loadCAFile reads a PEM bundle into a new pool.
func loadCAFile(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New(path + " holds no PEM certificate")
	}
	return pool, nil
}

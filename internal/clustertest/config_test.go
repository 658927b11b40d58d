package clustertest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/adsync/adsync/internal/testenv/slapd"
)

// configOptions are the parts of an adsync configuration a test chooses.
type configOptions struct {
	natsURL string
	// natsExtra is added to the nats section (credentials).
	natsExtra string
	dataDir   string
	// second, if set, is a second domain, "lab2".
	second *slapd.Server
	// pageSize is the domains' LDAP page size (0: adsync's default).
	pageSize int
}

// writeConfig writes an adsync configuration for the cluster and the slapd
// domain "lab" (and o.second's "lab2") into dir and returns its path.
func writeConfig(t *testing.T, dir string, openldap *slapd.Server, o configOptions) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "data_dir: %s\n", o.dataDir)
	fmt.Fprintf(&b, "nats:\n  url: %q\n  replicas: 3\n  ack_wait: 5s\n%s", o.natsURL, o.natsExtra)
	b.WriteString("log:\n  level: info\n")
	b.WriteString("domains:\n")
	writeDomain(&b, "lab", openldap, o.pageSize)
	if o.second != nil {
		writeDomain(&b, "lab2", o.second, o.pageSize)
	}
	path := filepath.Join(dir, "adsync.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeDomain writes the configuration of the slapd domain name.
func writeDomain(b *strings.Builder, name string, openldap *slapd.Server, pageSize int) {
	fmt.Fprintf(b, "  - name: %s\n    type: ldap\n    url: %s\n    ca_file: %s\n    tls_server_name: %s\n", name, openldap.LDAPSURL, openldap.CAFile, openldap.ServerName)
	fmt.Fprintf(b, "    bind_dn: %q\n    bind_password_file: %s\n    base_dn: %q\n", openldap.BindDN, openldap.PasswordFile, openldap.UsersDN)
	if pageSize > 0 {
		fmt.Fprintf(b, "    page_size: %d\n", pageSize)
	}
}

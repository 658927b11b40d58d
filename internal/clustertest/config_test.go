package clustertest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/adsync/adsync/internal/testenv"
)

// configOptions are the parts of an adsync configuration a test chooses.
type configOptions struct {
	natsURL string
	// natsExtra is added to the nats section (credentials).
	natsExtra string
	dataDir   string
}

// writeConfig writes an adsync configuration for the cluster and the slapd
// domain "lab" into dir and returns its path.
func writeConfig(t *testing.T, dir string, slapd *testenv.SlapdServer, o configOptions) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "data_dir: %s\n", o.dataDir)
	fmt.Fprintf(&b, "nats:\n  url: %q\n  replicas: 3\n  ack_wait: 5s\n%s", o.natsURL, o.natsExtra)
	b.WriteString("log:\n  level: info\n")
	b.WriteString("domains:\n")
	fmt.Fprintf(&b, "  - name: lab\n    type: ldap\n    url: %s\n    ca_file: %s\n    tls_server_name: %s\n", slapd.LDAPSURL, slapd.CAFile, slapd.ServerName)
	fmt.Fprintf(&b, "    bind_dn: %q\n    bind_password_file: %s\n    base_dn: %q\n", slapd.BindDN, slapd.PasswordFile, slapd.UsersDN)
	path := filepath.Join(dir, "adsync.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

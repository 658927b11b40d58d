package e2e

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/adsync/adsync/internal/testenv"
	"github.com/adsync/adsync/internal/testenv/slapd"
)

// The embedded bus can require TLS and credentials: adsync's own
// processes and commands use them, anyone else is refused.
func TestEmbeddedBusRequiresTLSAndCredentials(t *testing.T) {
	t.Parallel()
	openldap := slapd.Start(t, slapd.WithUsers(3))
	dir := t.TempDir()
	tlsFiles, err := testenv.WriteTLS(filepath.Join(dir, "nats-tls"), []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	pw := filepath.Join(dir, "nats.pass")
	if err := os.WriteFile(pw, []byte("bus-secret-77\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The certificate names 127.0.0.1 (testenv adds it).
	listen := freeAddr(t)
	sys := Start(t, []Domain{LDAPDomain("lab", openldap)}, WithListen(listen),
		WithCapture("tls://"+listen, nats.RootCAs(tlsFiles.CAFile), nats.UserInfo("adsync", "bus-secret-77")), WithNATS("  user: adsync\n  password_file: "+pw+
			"\n  server_cert_file: "+tlsFiles.CertFile+"\n  server_key_file: "+tlsFiles.KeyFile+"\n  ca_file: "+tlsFiles.CAFile+"\n"))
	sys.MustCLI("job", "create", "lab-sync", "--all-domains")
	sys.MustComplete("lab-sync")

	url := "tls://" + strings.TrimPrefix(sys.NATSURL, "nats://")
	cases := []struct {
		name string
		opts []nats.Option
	}{
		{"no credentials", []nats.Option{nats.RootCAs(tlsFiles.CAFile)}},
		{"wrong password", []nats.Option{nats.RootCAs(tlsFiles.CAFile), nats.UserInfo("adsync", "guess")}},
		{"plaintext", []nats.Option{nats.UserInfo("adsync", "bus-secret-77")}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := url
			if c.name == "plaintext" {
				u = sys.NATSURL
			}
			nc, err := nats.Connect(u, c.opts...)
			if err == nil {
				nc.Close()
				t.Fatal("connection accepted")
			}
		})
	}
	nc, err := nats.Connect(url, nats.RootCAs(tlsFiles.CAFile), nats.UserInfo("adsync", "bus-secret-77"))
	if err != nil {
		t.Fatalf("the right credentials over TLS: %v", err)
	}
	nc.Close()
}

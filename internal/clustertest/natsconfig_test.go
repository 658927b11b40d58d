package clustertest

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/adsync/adsync/internal/testenv"
	"github.com/adsync/adsync/internal/testenv/natscluster"
)

// The node configurations that deploy/nats/cluster ships are valid for the
// nats-server version adsync pins (nats-server -t), given their TLS files
// and the passwords in the environment.
func TestShippedNATSConfigsAreValid(t *testing.T) {
	needsCluster(t)
	t.Parallel()
	bin, err := natscluster.ServerBinary()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tls, err := testenv.WriteTLS(filepath.Join(dir, "tls"), []string{"nats-1.adsync.internal"}, []net.IP{net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	// The shipped paths, replaced by this test's files.
	paths := strings.NewReplacer(
		"/etc/nats/tls/server.pem", tls.CertFile, "/etc/nats/tls/server-key.pem", tls.KeyFile,
		"/etc/nats/tls/route.pem", tls.CertFile, "/etc/nats/tls/route-key.pem", tls.KeyFile,
		"/etc/nats/tls/ca.pem", tls.CAFile, "/var/lib/nats/jetstream", filepath.Join(dir, "jetstream"))
	src := filepath.Dir(accountsFile)
	files, err := filepath.Glob(filepath.Join(src, "*.conf"))
	if err != nil || len(files) != 4 {
		t.Fatalf("want n1.conf, n2.conf, n3.conf and accounts.conf in %s: %v %v", src, files, err)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), []byte(paths.Replace(string(raw))), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := append(os.Environ(), newPasswords(t).env()...)
	for _, node := range []string{"n1", "n2", "n3"} {
		t.Run(node, func(t *testing.T) {
			cmd := exec.Command(bin, "-t", "-c", filepath.Join(dir, node+".conf"))
			cmd.Env = env
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("nats-server -t %s.conf: %v\n%s", node, err, out)
			}
		})
	}
	t.Run("a missing password is an error", func(t *testing.T) {
		cmd := exec.Command(bin, "-t", "-c", filepath.Join(dir, "n1.conf"))
		cmd.Env = os.Environ()
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "PASSWORD") {
			t.Fatalf("nats-server -t without passwords: %v\n%s", err, out)
		}
	})
}

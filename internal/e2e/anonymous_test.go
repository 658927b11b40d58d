package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/adsync/adsync/internal/cli"
	"github.com/adsync/adsync/internal/testenv/slapd"
)

// By default the embedded bus refuses anonymous connections: adsync run
// generates a token into its data directory (mode 0600) on its first start,
// its services and the command line on the same machine use it, and any
// other local process is refused; a restart keeps the token. With
// nats.allow_anonymous, anyone on the host may connect, as before.
func TestEmbeddedBusRefusesAnonymousConnections(t *testing.T) {
	t.Parallel()
	openldap := slapd.Start(t, slapd.WithUsers(3))
	sys := Start(t, []Domain{LDAPDomain("lab", openldap)})
	tokenFile := filepath.Join(sys.Dir, "data", "nats.token")
	st, err := os.Stat(tokenFile)
	if err != nil {
		t.Fatalf("no generated token: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode %v, want 0600", st.Mode().Perm())
	}
	token, _ := os.ReadFile(tokenFile)

	for name, opts := range map[string][]nats.Option{
		"anonymous":   nil,
		"wrong token": {nats.Token(strings.Repeat("0", len(token)))},
		"a user":      {nats.UserInfo("adsync", string(token))},
	} {
		nc, err := nats.Connect(sys.NATSURL, opts...)
		if err == nil {
			nc.Close()
			t.Fatalf("%s: connection accepted", name)
		}
		if !errors.Is(err, nats.ErrAuthorization) {
			t.Fatalf("%s: %v, want an authorization violation", name, err)
		}
	}
	// adsync's own command line, with the same configuration, works.
	sys.MustCLI("job", "create", "lab-sync", "--all-domains")
	if c, _, _, _, _ := Counts(t, sys.MustComplete("lab-sync"), "lab"); c != 3 {
		t.Fatalf("created %d, want 3", c)
	}

	// One that cannot read the token (another data directory) is refused,
	// and told why.
	other := filepath.Join(t.TempDir(), "other.yaml")
	raw, err := os.ReadFile(sys.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(other, bytes.Replace(raw, []byte(filepath.Join(sys.Dir, "data")), []byte(t.TempDir()), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = cli.Run(ctx, []string{"job", "list", "-c", other}, cli.Env{Stdout: &out, Stderr: &errb})
	if err == nil || !strings.Contains(err.Error()+errb.String(), "nats.token") {
		t.Fatalf("a command line without the token: %v %s", err, errb.String())
	}
	if strings.Contains(err.Error()+errb.String(), string(token)) {
		t.Fatal("the error shows the token")
	}

	// A restart keeps the token.
	sys.Restart()
	if again, _ := os.ReadFile(tokenFile); !bytes.Equal(again, token) {
		t.Fatal("the restart made a new token")
	}
	sys.MustCLI("job", "list")
	if log := readLog(t, sys); strings.Contains(log, string(token)) {
		t.Fatal("the log shows the token")
	}

	// nats.allow_anonymous: a lab, open to every local process.
	lab := Start(t, []Domain{LDAPDomain("lab", openldap)}, WithNATS("  allow_anonymous: true\n"))
	nc, err := nats.Connect(lab.NATSURL)
	if err != nil {
		t.Fatalf("allow_anonymous: %v", err)
	}
	nc.Close()
	if _, err := os.Stat(filepath.Join(lab.Dir, "data", "nats.token")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("allow_anonymous generated a token: %v", err)
	}
}

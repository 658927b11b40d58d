package clustertest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/adsync/adsync/internal/app"
	"github.com/adsync/adsync/internal/testenv/slapd"
)

// The five services start and sync, each as its own process with only its
// own NATS user of deploy/nats (nats.provision: false), after an
// administrator provisioned once with `adsync provision`.
func TestServicesRunWithLeastPrivilege(t *testing.T) {
	needsCluster(t)
	t.Parallel()
	pw := newPasswords(t)
	cluster := permissionsCluster(t, pw)
	openldap := slapd.Start(t, slapd.WithUsers(200))
	dir := t.TempDir()
	secret := func(user string) string {
		p := filepath.Join(dir, user+".pass")
		if err := os.WriteFile(p, []byte(pw[user]+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	configFor := func(user string) string {
		d := filepath.Join(dir, user)
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		return writeConfig(t, d, openldap, configOptions{natsURL: cluster.URLs(), dataDir: filepath.Join(dir, "data"),
			natsExtra: fmt.Sprintf("  user: %s\n  password_file: %s\n  provision: false\n", user, secret(user))})
	}
	admin := configFor("adsync-admin")
	if r := runCLI(admin, "provision"); r.Err != nil {
		t.Fatalf("adsync provision as adsync-admin: %v\n%s", r.Err, r.Stderr)
	}
	var services []*Service
	for _, svc := range app.AllServices {
		cfg := configFor("adsync-" + svc)
		services = append(services, startService(t, filepath.Dir(cfg), cfg, svc))
	}
	if r := runCLI(admin, "job", "create", "least", "--all-domains"); r.Err != nil {
		t.Fatalf("job create: %v\n%s", r.Err, r.Stderr)
	}
	r := runCLI(admin, "job", "run", "least", "--wait", "--json")
	sum := parseRun(t, r)
	if r.Err != nil || sum.Outcome != "completed" || sum.Totals.Created != 200 {
		t.Fatalf("run with least-privilege services: %v %+v\n%s", r.Err, sum, r.Stderr)
	}
	assertAccountsEqualDirectory(t, listAccounts(t, admin), directoryUsers(t, openldap))
	// Nothing any service did was refused.
	for _, s := range services {
		raw, err := os.ReadFile(s.LogFile)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(strings.ToLower(string(raw)), "permissions violation") {
			t.Errorf("%s was refused something:\n%s", s.Name, raw)
		}
	}
}

package e2e

import (
	"bytes"
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/adsync/adsync/internal/app"
	"github.com/adsync/adsync/internal/cli"
	"github.com/adsync/adsync/internal/infra/embeddednats"
	"github.com/adsync/adsync/internal/testenv/slapd"
)

// Each of the five services runs alone (`adsync serve SERVICE`) against a
// separate NATS server, and together they sync a directory.
func TestServicesRunOneByOneAgainstASeparateNATSServer(t *testing.T) {
	t.Parallel()
	openldap := slapd.Start(t, slapd.WithUsers(25))
	srv, err := embeddednats.Start(embeddednats.Options{StoreDir: t.TempDir(), Listen: "127.0.0.1:-1"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()

	// No `adsync run`: the configuration points at the separate server.
	sys := &System{t: t, Dir: t.TempDir(), domains: []Domain{LDAPDomain("lab", openldap)}, listen: "127.0.0.1:1",
		natsExtra: "  url: " + srv.ClientURL() + "\n"}
	sys.ConfigPath = filepath.Join(sys.Dir, "adsync.yaml")
	sys.NATSURL = srv.ClientURL()
	sys.writeConfig()

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make(chan error, len(app.AllServices))
	for _, svc := range app.AllServices {
		ready := make(chan struct{})
		var once sync.Once
		var logBuf bytes.Buffer
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := cli.Run(ctx, []string{"serve", svc, "-c", sys.ConfigPath}, cli.Env{
				Stdout: &logBuf, Stderr: &logBuf, Ready: func() { once.Do(func() { close(ready) }) },
			})
			if err != nil {
				errs <- err
			}
		}()
		select {
		case <-ready:
		case <-time.After(30 * time.Second):
			t.Fatalf("adsync serve %s did not start: %s", svc, logBuf.String())
		}
	}
	defer func() {
		cancel()
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("a service did not stop cleanly: %v", err)
		}
	}()
	sys.captured = &capture{}
	sys.captured.attach(t, sys.NATSURL, sys.NATSOptions()...)
	defer sys.captured.check(t)
	defer sys.captured.detach()

	sys.MustCLI("job", "create", "lab-sync", "--all-domains")
	sum := sys.MustComplete("lab-sync")
	if c, _, _, _, _ := Counts(t, sum, "lab"); c != 25 {
		t.Fatalf("created %d, want 25", c)
	}
	if n := len(sys.Accounts("lab")); n != 25 {
		t.Fatalf("%d accounts, want 25", n)
	}
}

// Command fixturectl starts and stops the test directories of
// internal/testenv for scripts (make demo, benchmarks):
//
//	fixturectl samba up [--dir D] [--format env|yaml]
//	fixturectl samba down [--dir D]
//	fixturectl samba demo-users --ou NAME [--dir D]
//	fixturectl slapd up --dir D [--users N] [--random-ids] [--groups K] [--port P] [--format env|yaml]
//	fixturectl slapd down --dir D
//
// "up" prints shell export lines (eval "$(fixturectl samba up)") or a YAML
// snippet with the URL, CA file, bind DN, password file and base DN.
//
// slapd runs as a daemon: "slapd up" returns once it answers, and it keeps
// running (pid in D/slapd.pid) until "slapd down". It listens on ldap://P
// (StartTLS) and ldaps://P+1; without --port it picks free ports.
// The Samba DC is the same shared one the tests use (state dir default
// /tmp/adsync-testenv/samba or $ADSYNC_TESTENV_DIR); it runs until
// "samba down", which also deletes its state.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/adsync/adsync/internal/testenv/samba"
	"github.com/adsync/adsync/internal/testenv/slapd"
)

const usage = `usage:
  fixturectl samba up [--dir D] [--format env|yaml]
  fixturectl samba down [--dir D]
  fixturectl samba demo-users --ou NAME [--dir D]
  fixturectl slapd up --dir D [--users N] [--random-ids] [--groups K] [--port P] [--format env|yaml]
  fixturectl slapd down --dir D
`

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "fixturectl:", err)
		if errors.Is(err, errUsage) {
			fmt.Fprint(os.Stderr, usage)
			os.Exit(2)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("bad usage")

func run(args []string, out io.Writer) error {
	if len(args) < 2 {
		return errUsage
	}
	fs := flag.NewFlagSet(args[0]+" "+args[1], flag.ContinueOnError)
	dir := fs.String("dir", "", "state directory")
	format := fs.String("format", "env", "output of up: env or yaml")
	ou := fs.String("ou", "", "OU name for demo-users")
	users := fs.Int("users", 0, "users to preload into slapd")
	port := fs.Int("port", 0, "slapd ldap:// port (ldaps:// is port+1); 0 = free ports")
	randomIDs := fs.Bool("random-ids", false, "slapd users' entryUUIDs in no order, as AD's objectGUIDs")
	groups := fs.Int("groups", 0, "groups (of 100) each preloaded slapd user is a member of")
	if err := fs.Parse(args[2:]); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if *format != "env" && *format != "yaml" {
		return fmt.Errorf("%w: --format must be env or yaml", errUsage)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()

	switch args[0] + " " + args[1] {
	case "samba up":
		dc, err := samba.Ensure(ctx, sambaDir(*dir))
		if err != nil {
			return err
		}
		return printTarget(out, *format, sambaTarget(dc))
	case "samba down":
		return samba.Stop(sambaDir(*dir))
	case "samba demo-users":
		if *ou == "" {
			return fmt.Errorf("%w: --ou is required", errUsage)
		}
		dc, err := samba.Ensure(ctx, sambaDir(*dir))
		if err != nil {
			return err
		}
		dn, created, err := dc.CreateDemoOU(*ou)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "# created %s with %d users\n", dn, len(created))
		t := sambaTarget(dc)
		t.BaseDN = dn
		return printTarget(out, *format, t)
	case "slapd up":
		if *dir == "" {
			return fmt.Errorf("%w: --dir is required", errUsage)
		}
		opts := []slapd.Option{slapd.WithGroups(*groups)}
		if *randomIDs {
			opts = append(opts, slapd.WithRandomIDs())
		}
		s, err := slapd.StartDaemon(*dir, *users, *port, opts...)
		if err != nil {
			return err
		}
		return printTarget(out, *format, slapdTarget(s))
	case "slapd down":
		if *dir == "" {
			return fmt.Errorf("%w: --dir is required", errUsage)
		}
		return slapd.StopDaemon(*dir)
	}
	return fmt.Errorf("%w: unknown command %q", errUsage, args[0]+" "+args[1])
}

func sambaDir(dir string) string {
	if dir != "" {
		return dir
	}
	return samba.StateDir()
}

// Package cli is adsync's command line: `adsync run`, `adsync serve`, and
// the admin commands that reach the running system over NATS.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/admin"
	"github.com/adsync/adsync/internal/app"
	"github.com/adsync/adsync/internal/config"
	"github.com/adsync/adsync/internal/infra/bus"
)

// Version is set at build time.
var Version = "0.1.0-dev"

// Env is what the command line gets from its process.
type Env struct {
	// Stdin gives passwords (`admin add`, `admin passwd`); a terminal is
	// prompted without echo.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	LookupEnv      config.Env
	Now            func() time.Time
	// Ready, if set, is called when `adsync run`/`serve` is up (tests).
	Ready func()
}

// ExitError carries a process exit code with its one-line message.
type ExitError struct {
	Code int
	Msg  string
}

func (e *ExitError) Error() string { return e.Msg }

// ExitCode returns the exit code for an error returned by Run.
func ExitCode(err error) int {
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return 1
}

type cli struct {
	env        Env
	configPath string
}

// Run runs the command line with args (without the program name).
func Run(ctx context.Context, args []string, env Env) error {
	if env.Now == nil {
		env.Now = time.Now
	}
	if env.LookupEnv == nil {
		env.LookupEnv = func(string) (string, bool) { return "", false }
	}
	c := &cli{env: env}
	root := &cobra.Command{
		Use:           "adsync",
		Short:         "Keep local accounts in step with Active Directory and LDAP domains",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version,
	}
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.PersistentFlags().StringVarP(&c.configPath, "config", "c", config.DefaultPath, "configuration file")
	root.AddCommand(c.runCmd(), c.serveCmd(), c.jobCmd(), c.accountsCmd(), c.ssoCmd(), c.watchCmd(), c.configCmd(), c.deadletterCmd(), c.provisionCmd(), c.auditCmd(), c.adminCmd(), c.notifyCmd())
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}

func (c *cli) loadConfig() (*config.File, error) {
	return config.Load(c.configPath)
}

// session is an admin command's connection to the running system.
type session struct {
	cfg    *config.File
	bus    *bus.Bus
	stores *app.Stores
	ops    *admin.Ops
	// actor is who the audit log records: the NATS identity.
	actor events.Actor
}

// withOps connects, runs fn with the session and closes it: every
// command that needs adsync's NATS goes through here.
func (c *cli) withOps(ctx context.Context, fn func(context.Context, *session) error) error {
	s, err := c.connect(ctx)
	if err != nil {
		return err
	}
	defer s.close()
	return fn(ctx, s)
}

func (c *cli) connect(ctx context.Context) (*session, error) {
	cfg, err := c.loadConfig()
	if err != nil {
		return nil, err
	}
	opts, err := cfg.BusOptions(c.env.LookupEnv)
	if err != nil {
		return nil, err
	}
	opts.Name = "adsync cli"
	b, err := bus.Connect(ctx, opts, cfg.Topology(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		if errors.Is(err, nats.ErrNoServers) { // nothing answered; a refusal (credentials, TLS) says so itself
			return nil, fmt.Errorf("%w (is adsync running? start it with: adsync run -c %s)", err, c.configPath)
		}
		if cfg.NATS.URL == "" && !cfg.NATS.AllowAnonymous && errors.Is(err, nats.ErrAuthorization) {
			return nil, fmt.Errorf("%w (the embedded NATS server takes the token adsync run wrote to %s: run this command as the user adsync runs as, with the same configuration)",
				err, cfg.EmbeddedTokenFile())
		}
		return nil, err
	}
	if err := b.CheckProvisioned(ctx); err != nil {
		b.NC.Close()
		return nil, err
	}
	if err := b.EnsureAuditLog(ctx); err != nil {
		b.NC.Close()
		return nil, err
	}
	st, err := app.OpenStores(ctx, b)
	if err == nil {
		err = st.OpenConsole(ctx, b)
	}
	if err != nil {
		b.NC.Close()
		return nil, err
	}
	return &session{cfg: cfg, bus: b, stores: st, ops: app.NewOps(b, st, cfg.DomainNames(), c.env.Now), actor: events.Actor{Kind: events.ActorCLI, Name: cfg.BusIdentity()}}, nil
}

func (s *session) close() { _ = s.bus.Close() }

func (c *cli) out(format string, a ...any) { fmt.Fprintf(c.env.Stdout, format, a...) }

package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/internal/cli"
	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/internal/testenv/samba"
	"github.com/adsync/adsync/internal/testenv/slapd"
	"github.com/adsync/adsync/schemas/eventschema"
	"github.com/adsync/adsync/services/account-writer/accounts"
)

// Domain is one domain of a test's configuration.
type Domain struct {
	Name, Type, URL, CAFile, ServerName, BindDN, PasswordFile, BaseDN string
	UserFilter, DisabledFilter                                        string
	InsecurePlaintext                                                 bool
	PageSize                                                          int
}

// ADDomain is a domain on the shared Samba DC, rooted at baseDN.
func ADDomain(name string, dc *samba.DC, baseDN string) Domain {
	return Domain{Name: name, Type: "active_directory", URL: dc.LDAPSURL, CAFile: dc.CAFile, ServerName: dc.ServerName,
		BindDN: dc.BindDN, PasswordFile: dc.PasswordFile, BaseDN: baseDN}
}

// LDAPDomain is a generic LDAP domain on a slapd server.
func LDAPDomain(name string, s *slapd.Server) Domain {
	return Domain{Name: name, Type: "ldap", URL: s.LDAPSURL, CAFile: s.CAFile, ServerName: s.ServerName,
		BindDN: s.BindDN, PasswordFile: s.PasswordFile, BaseDN: s.UsersDN}
}

func (d Domain) yaml() string {
	var b strings.Builder
	fmt.Fprintf(&b, "  - name: %s\n    type: %s\n    url: %s\n", d.Name, d.Type, d.URL)
	if d.CAFile != "" {
		fmt.Fprintf(&b, "    ca_file: %s\n", d.CAFile)
	}
	if d.ServerName != "" {
		fmt.Fprintf(&b, "    tls_server_name: %s\n", d.ServerName)
	}
	if d.InsecurePlaintext {
		fmt.Fprintf(&b, "    insecure_plaintext: true\n")
	}
	fmt.Fprintf(&b, "    bind_dn: %q\n    bind_password_file: %s\n    base_dn: %q\n", d.BindDN, d.PasswordFile, d.BaseDN)
	if d.UserFilter != "" {
		fmt.Fprintf(&b, "    user_filter: %q\n", d.UserFilter)
	}
	if d.DisabledFilter != "" {
		fmt.Fprintf(&b, "    disabled_filter: %q\n", d.DisabledFilter)
	}
	if d.PageSize != 0 {
		fmt.Fprintf(&b, "    page_size: %d\n", d.PageSize)
	}
	return b.String()
}

// System is a running `adsync run` of one test.
type System struct {
	t          *testing.T
	Dir        string
	ConfigPath string
	NATSURL    string
	listen     string
	extra      string
	domains    []Domain
	cancel     context.CancelFunc
	done       chan error
	log        *os.File
	captured   *capture
	// Clock is the system's clock (schedules, timestamps); tests advance it.
	Clock *Clock
	// overrides adds YAML lines to a domain's entry, by domain name.
	overrides map[string]string
	natsExtra string
	logFormat string // log.format, when not the default
	// captureURL and captureOpts reach a bus that requires TLS or credentials.
	captureURL  string
	captureOpts []nats.Option
	// binary runs `adsync run` as this executable (an older version)
	// instead of in the test process.
	binary string
}

// WithListen fixes the embedded server's address.
func WithListen(addr string) Option { return func(s *System) { s.listen = addr } }

// WithCapture sets how the schema check of published events connects.
func WithCapture(url string, opts ...nats.Option) Option {
	return func(s *System) { s.captureURL, s.captureOpts = url, opts }
}

// Clock is the wall clock plus an offset that a test can advance.
type Clock struct{ offset atomic.Int64 }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// Option changes a test's configuration.
type Option func(*System)

// WithConfig appends YAML to the configuration's top level.
func WithConfig(yaml string) Option { return func(s *System) { s.extra += yaml } }

// WithNATS adds lines to the configuration's nats section.
func WithNATS(yaml string) Option { return func(s *System) { s.natsExtra += yaml } }

// WithJSONLog makes adsync log in JSON (log.format: json).
func WithJSONLog() Option { return func(s *System) { s.logFormat = "json" } }

// WithDomainYAML adds lines to a domain's entry in the configuration.
func WithDomainYAML(domain, yaml string) Option {
	return func(s *System) {
		if s.overrides == nil {
			s.overrides = map[string]string{}
		}
		s.overrides[domain] += yaml
	}
}

// Start writes a configuration for the domains and starts `adsync run`.
func Start(t *testing.T, domains []Domain, opts ...Option) *System {
	t.Helper()
	dir := t.TempDir()
	s := &System{t: t, Dir: dir, ConfigPath: filepath.Join(dir, "adsync.yaml"), domains: domains, Clock: &Clock{}}
	for _, o := range opts {
		o(s)
	}
	picked := s.listen == ""
	for attempt := 1; ; attempt++ {
		if picked {
			s.listen = freeAddr(t)
		}
		s.NATSURL = "nats://" + s.listen
		s.writeConfig()
		err := s.tryStart()
		if err == nil {
			break
		}
		// A port freeAddr found free can be taken before the embedded
		// server binds it (another test picked it meanwhile): pick again.
		if !picked || attempt == 3 || !strings.Contains(err.Error(), "address already in use") {
			t.Fatalf("adsync run stopped at start: %v", err)
		}
	}
	t.Cleanup(func() {
		s.Stop()
		s.captured.check(t)
		if t.Failed() {
			s.dumpLog()
		}
	})
	return s
}

func (s *System) writeConfig() {
	var b strings.Builder
	fmt.Fprintf(&b, "data_dir: %s\nnats:\n  listen: %s\n  ack_wait: 5s\n%slog:\n  level: debug\n", filepath.Join(s.Dir, "data"), s.listen, s.natsExtra)
	if s.logFormat != "" {
		fmt.Fprintf(&b, "  format: %s\n", s.logFormat)
	}
	b.WriteString(s.extra)
	b.WriteString("domains:\n")
	for _, d := range s.domains {
		b.WriteString(d.yaml())
		b.WriteString(s.overrides[d.Name])
	}
	if err := os.WriteFile(s.ConfigPath, []byte(b.String()), 0o600); err != nil {
		s.t.Fatal(err)
	}
}

func (s *System) start() {
	s.t.Helper()
	if err := s.tryStart(); err != nil {
		s.t.Fatalf("adsync run stopped at start: %v", err)
	}
}

// tryStart starts `adsync run` and waits until it is ready, or returns why
// it stopped.
func (s *System) tryStart() error {
	s.t.Helper()
	var err error
	s.log, err = os.OpenFile(filepath.Join(s.Dir, "adsync.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		s.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	var once sync.Once
	s.cancel, s.done = cancel, make(chan error, 1)
	if s.binary != "" {
		s.startBinary(ctx, func() { once.Do(func() { close(ready) }) })
	} else {
		go func() {
			s.done <- cli.Run(ctx, []string{"run", "-c", s.ConfigPath}, cli.Env{
				Stdout: s.log, Stderr: s.log, Now: s.Clock.Now, Ready: func() { once.Do(func() { close(ready) }) },
			})
		}()
	}
	select {
	case <-ready:
	case err := <-s.done:
		s.cancel()
		s.cancel = nil
		s.log.Close()
		if err == nil {
			err = errors.New("it exited")
		}
		return err
	case <-time.After(30 * time.Second):
		s.t.Fatal("adsync run did not get ready within 30s")
	}
	if s.captured == nil {
		s.captured = &capture{}
	}
	url, opts := s.NATSURL, s.NATSOptions()
	if s.captureURL != "" {
		url = s.captureURL
	}
	if s.captureOpts != nil {
		opts = s.captureOpts
	}
	s.captured.attach(s.t, url, opts...)
	return nil
}

// NATSOptions are the options a process on the same machine uses to reach
// the embedded server: the token adsync run generated in its data
// directory, if it did.
func (s *System) NATSOptions() []nats.Option {
	raw, err := os.ReadFile(filepath.Join(s.Dir, "data", "nats.token"))
	if err != nil {
		return nil
	}
	return []nats.Option{nats.Token(string(raw))}
}

// Connect connects to the embedded server as a process on the same machine
// (NATSOptions); closed when the test ends.
func (s *System) Connect() *nats.Conn {
	s.t.Helper()
	nc, err := nats.Connect(s.NATSURL, s.NATSOptions()...)
	if err != nil {
		s.t.Fatalf("connect to adsync's NATS server: %v", err)
	}
	s.t.Cleanup(nc.Close)
	return nc
}

// Stop stops `adsync run` as SIGTERM would and checks it exits cleanly.
func (s *System) Stop() {
	if s.cancel == nil {
		return
	}
	s.captured.detach()
	s.cancel()
	select {
	case err := <-s.done:
		if err != nil {
			s.t.Errorf("adsync run did not stop cleanly: %v", err)
		}
	case <-time.After(60 * time.Second):
		s.t.Error("adsync run did not stop within 60s of SIGTERM")
	}
	s.cancel = nil
	s.log.Close()
}

// Restart stops and starts `adsync run` with the same data.
func (s *System) Restart() {
	s.Stop()
	s.writeConfig()
	s.start()
}

// SetDomains rewrites the configuration's domains (takes effect on Restart).
func (s *System) SetDomains(domains ...Domain) { s.domains = domains }

func (s *System) dumpLog() {
	raw, err := os.ReadFile(filepath.Join(s.Dir, "adsync.log"))
	if err != nil {
		return
	}
	lines := strings.Split(string(raw), "\n")
	if len(lines) > 80 {
		lines = lines[len(lines)-80:]
	}
	s.t.Logf("last lines of adsync run's log:\n%s", strings.Join(lines, "\n"))
}

func (s *System) clockNow() func() time.Time {
	if s.Clock == nil {
		return time.Now
	}
	return s.Clock.Now
}

// Serve runs one more service process (`adsync serve SERVICE`) against the
// system's NATS until the test ends.
func (s *System) Serve(service string) { s.ServeWith(service, s.ConfigPath) }

// ServeWith runs one more service process with another configuration file.
func (s *System) ServeWith(service, configPath string) {
	s.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	var once sync.Once
	done := make(chan error, 1)
	go func() {
		done <- cli.Run(ctx, []string{"serve", service, "-c", configPath}, cli.Env{
			Stdout: s.log, Stderr: s.log, Now: s.clockNow(), Ready: func() { once.Do(func() { close(ready) }) },
		})
	}()
	select {
	case <-ready:
	case err := <-done:
		s.t.Fatalf("adsync serve %s stopped at start: %v", service, err)
	case <-time.After(30 * time.Second):
		s.t.Fatalf("adsync serve %s did not get ready", service)
	}
	s.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			s.t.Errorf("adsync serve %s did not stop cleanly: %v", service, err)
		}
	})
}

// History returns a job's runs, newest first.
func (s *System) History(job string) []cli.RunSummary {
	s.t.Helper()
	var h []cli.RunSummary
	if err := json.Unmarshal([]byte(s.MustCLI("job", "history", job, "--json", "--limit", "0")), &h); err != nil {
		s.t.Fatalf("job history: %v", err)
	}
	return h
}

// Result is the outcome of one command line.
type Result struct {
	Stdout, Stderr string
	Err            error
}

// CLI runs an adsync command against this system.
func (s *System) CLI(args ...string) Result { return s.CLIWithInput("", args...) }

// CLIWithInput runs a command with input on its standard input.
func (s *System) CLIWithInput(input string, args ...string) Result {
	s.t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	err := cli.Run(ctx, append(args, "-c", s.ConfigPath), cli.Env{Stdin: strings.NewReader(input), Stdout: &out, Stderr: &errb, Now: s.clockNow()})
	return Result{Stdout: out.String(), Stderr: errb.String(), Err: err}
}

// MustCLI runs a command that must succeed and returns its output.
func (s *System) MustCLI(args ...string) string {
	s.t.Helper()
	r := s.CLI(args...)
	if r.Err != nil {
		s.t.Fatalf("adsync %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.Err, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// RunJob runs a job, waits, and returns its summary (whatever the outcome)
// and the command's error.
func (s *System) RunJob(name string, extra ...string) (cli.RunSummary, error) {
	s.t.Helper()
	r := s.CLI(append([]string{"job", "run", name, "--wait", "--json", "--timeout", "3m"}, extra...)...)
	var sum cli.RunSummary
	if err := json.Unmarshal([]byte(r.Stdout), &sum); err != nil {
		s.t.Fatalf("job run %s printed no summary (%v): %v\nstdout: %s\nstderr: %s", name, err, r.Err, r.Stdout, r.Stderr)
	}
	return sum, r.Err
}

// MustComplete runs a job that must complete.
func (s *System) MustComplete(name string) cli.RunSummary {
	s.t.Helper()
	sum, err := s.RunJob(name)
	if err != nil || sum.Outcome != "completed" {
		s.t.Fatalf("run of %s: outcome %s, err %v, reasons %v", name, sum.Outcome, err, sum.Reasons)
	}
	return sum
}

// Accounts lists the accounts (all domains when domain is "").
func (s *System) Accounts(domain string) []accounts.Account {
	s.t.Helper()
	args := []string{"accounts", "list", "--json"}
	if domain != "" {
		args = append(args, "--domain", domain)
	}
	var list []accounts.Account
	if err := json.Unmarshal([]byte(s.MustCLI(args...)), &list); err != nil {
		s.t.Fatalf("accounts list --json: %v", err)
	}
	return list
}

// ByUsername indexes accounts by username (fails on a duplicate).
func ByUsername(t *testing.T, list []accounts.Account) map[string]accounts.Account {
	t.Helper()
	m := map[string]accounts.Account{}
	for _, a := range list {
		if _, dup := m[a.Username]; dup {
			t.Fatalf("two accounts named %s", a.Username)
		}
		m[a.Username] = a
	}
	return m
}

// Counts returns a domain's counts in a summary.
func Counts(t *testing.T, sum cli.RunSummary, domain string) (created, updated, deactivated, reactivated, unchanged int) {
	t.Helper()
	for _, d := range sum.Domains {
		if d.Domain == domain {
			return d.Created, d.Updated, d.Deactivated, d.Reactivated, d.Unchanged
		}
	}
	t.Fatalf("summary has no domain %s: %+v", domain, sum)
	return
}

// freeAddr returns a free loopback address below the kernel's ephemeral
// port range, so that nobody's ":0" listener or outgoing connection takes
// it while the test has its server stopped (Restart keeps the address).
func freeAddr(t *testing.T) string {
	t.Helper()
	for range 200 {
		addr := fmt.Sprintf("127.0.0.1:%d", 10000+rand.IntN(10000))
		l, err := net.Listen("tcp", addr)
		if err == nil {
			l.Close()
			return addr
		}
	}
	t.Fatal("no free port in 10000-19999")
	return ""
}

// capture records every event published while a test runs, to check each
// against its JSON Schema.
type capture struct {
	mu   sync.Mutex
	nc   *nats.Conn
	msgs []*nats.Msg
}

func (c *capture) attach(t *testing.T, url string, opts ...nats.Option) {
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatalf("capture: %v", err)
	}
	_, err = nc.Subscribe("adsync.>", func(m *nats.Msg) {
		c.mu.Lock()
		c.msgs = append(c.msgs, m)
		c.mu.Unlock()
	})
	if err != nil {
		t.Fatalf("capture: %v", err)
	}
	_ = nc.Flush()
	c.nc = nc
}

func (c *capture) detach() {
	if c.nc != nil {
		_ = c.nc.Flush()
		c.nc.Close()
		c.nc = nil
	}
}

// count returns how many messages were published on a subject.
func (c *capture) count(subject string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, m := range c.msgs {
		if m.Subject == subject {
			n++
		}
	}
	return n
}

// Poison marks payloads a test publishes on purpose; they are not checked.
const Poison = "poison"

func (c *capture) check(t *testing.T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	checked := 0
	for _, m := range c.msgs {
		name := bus.NameFromSubject(m.Subject)
		if strings.HasPrefix(name, "api.") || strings.HasPrefix(name, "deadletter.") || m.Header.Get(Poison) != "" {
			continue
		}
		if err := eventschema.ValidateEvent(name, m.Data); err != nil {
			t.Errorf("published %s does not validate: %v", m.Subject, err)
		}
		checked++
	}
	t.Logf("%d published events validated against their schemas", checked)
}

// waitFor polls cond until it holds.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

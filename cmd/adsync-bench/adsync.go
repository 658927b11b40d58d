package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/segmentio/encoding/json"
)

// services in pipeline order (internal/app.AllServices; not imported so
// that the bench keeps building while the app package changes).
var services = []string{"tick", "guard", "directory-reader", "diff", "account-writer"}

// system is adsync as o.layout says: five OS processes against one
// separate nats-server, or one `adsync run` with its embedded server.
type system struct {
	o         *options
	dir       string
	cfgPath   string
	natsURL   string
	apiListen string // the api service's address, when the bench starts it
	nats      *child
	svc       map[string]*child
	timeline  *timeline
}

// startSystem starts adsync (and nats-server) for domain d.
func startSystem(ctx context.Context, o *options, d *directory, dir string) (*system, error) {
	s := &system{o: o, dir: dir, svc: map[string]*child{}}
	for _, sub := range []string{"logs", "nats", "data"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, err
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s.natsURL = fmt.Sprintf("nats://127.0.0.1:%d", port)
	if o.layout.oneProcess {
		return s, s.startOne(ctx, d)
	}
	// max_payload as in deploy/nats and the embedded server (with NATS'
	// default of 1 MB, pages hold about 1,700 entries instead of
	// directory-reader's DefaultEntriesPerEvent).
	natsConf := filepath.Join(dir, "nats-server.conf")
	if err := os.WriteFile(natsConf, []byte("max_payload: 8MB\n"), 0o600); err != nil {
		return nil, err
	}
	s.nats, err = children.start("nats-server", filepath.Join(dir, "logs", "nats-server.log"),
		[]string{o.natsServer, "-c", natsConf, "-js", "-sd", filepath.Join(dir, "nats"), "-a", "127.0.0.1", "-p", strconv.Itoa(port)}, nil)
	if err != nil {
		return nil, err
	}
	if err := waitNATS(ctx, s.natsURL, s.nats); err != nil {
		return s, err
	}
	apiPort, err := freePort()
	if err != nil {
		return s, err
	}
	s.apiListen = fmt.Sprintf("127.0.0.1:%d", apiPort)
	if _, err := apiToken(dir); err != nil {
		return s, err
	}
	s.cfgPath = filepath.Join(dir, "adsync.yaml")
	if err := os.WriteFile(s.cfgPath, []byte(s.config(d)), 0o600); err != nil {
		return s, err
	}
	// One after the other, as the e2e test does: each provisions the
	// topology at start.
	for _, name := range services {
		args := []string{o.adsync, "serve", name, "-c", s.cfgPath}
		if o.profileDir != "" && o.profileOK {
			base := filepath.Join(o.profileDir, fmt.Sprintf("n%d-%s", d.N, name))
			args = append(args, "--cpuprofile", base+".cpu", "--memprofile", base+".mem")
		}
		c, err := children.start(name, filepath.Join(dir, "logs", name+".log"), args, nil)
		if err != nil {
			return s, err
		}
		s.svc[name] = c
		if err := waitLog(ctx, c, "adsync is running", 60*time.Second); err != nil {
			return s, err
		}
	}
	if o.timeline {
		if s.timeline, err = startTimeline(s.natsURL, time.Now()); err != nil {
			return s, err
		}
	}
	return s, nil
}

// startOne starts `adsync run` (embedded NATS, the api) for domain d.
func (s *system) startOne(ctx context.Context, d *directory) error {
	apiPort, err := freePort()
	if err != nil {
		return err
	}
	s.apiListen = fmt.Sprintf("127.0.0.1:%d", apiPort)
	if _, err := apiToken(s.dir); err != nil {
		return err
	}
	s.cfgPath = filepath.Join(s.dir, "adsync.yaml")
	if err := os.WriteFile(s.cfgPath, []byte(s.config(d)), 0o600); err != nil {
		return err
	}
	args := []string{s.o.adsync, "run", "-c", s.cfgPath}
	if s.o.profileDir != "" && s.o.profileOK {
		base := filepath.Join(s.o.profileDir, fmt.Sprintf("n%d-adsync-run", d.N))
		args = append(args, "--cpuprofile", base+".cpu", "--memprofile", base+".mem")
	}
	c, err := children.start(onePID, filepath.Join(s.dir, "logs", "adsync-run.log"), args, nil)
	if err != nil {
		return err
	}
	s.svc[onePID] = c
	if err := waitLog(ctx, c, "adsync is running", 60*time.Second); err != nil {
		return err
	}
	if s.o.timeline {
		if s.timeline, err = startTimeline(s.natsURL, time.Now()); err != nil {
			return err
		}
	}
	return nil
}

func (s *system) config(d *directory) string {
	var b strings.Builder
	fmt.Fprintf(&b, "data_dir: %s\nlog:\n  level: %s\n  format: json\n", q(filepath.Join(s.dir, "data")), s.o.logLevel)
	if s.o.layout.oneProcess {
		// The embedded server; anonymous so that the timeline can watch.
		fmt.Fprintf(&b, "nats:\n  listen: %s\n  allow_anonymous: true\n", q(strings.TrimPrefix(s.natsURL, "nats://")))
	} else {
		fmt.Fprintf(&b, "nats:\n  url: %s\n", q(s.natsURL))
	}
	if s.o.cpuSched != "" {
		fmt.Fprintf(&b, "process:\n  cpu_scheduling: %s\n", q(s.o.cpuSched))
	}
	fmt.Fprintf(&b, "http:\n  listen: %s\n  tokens:\n    - name: bench\n      token_file: %s\n      role: viewer\n",
		q(s.apiListen), q(filepath.Join(s.dir, "api.token")))
	b.WriteString("domains:\n")
	fmt.Fprintf(&b, "  - name: bench\n    type: %s\n    url: %s\n", d.Type, q(d.URL))
	if d.Plaintext {
		b.WriteString("    insecure_plaintext: true\n")
	} else {
		fmt.Fprintf(&b, "    ca_file: %s\n    tls_server_name: %s\n", q(d.CAFile), q(d.ServerName))
	}
	fmt.Fprintf(&b, "    bind_dn: %s\n    bind_password_file: %s\n    base_dn: %s\n    page_size: 1000\n",
		q(d.BindDN), q(d.PasswordFile), q(d.BaseDN))
	return b.String()
}

// q quotes a YAML scalar (a JSON string is valid YAML).
func q(s string) string { return strconv.Quote(s) }

// cli runs an adsync admin command and returns its stdout.
func (s *system) cli(ctx context.Context, args ...string) (string, error) {
	cmd := exec.Command(s.o.adsync, append(args, "-c", s.cfgPath)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := runCmd(ctx, cmd); err != nil {
		return out.String(), fmt.Errorf("adsync %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// summary is the part of `job run --wait --json` that the bench reads.
type summary struct {
	RunID    string   `json:"run_id"`
	Outcome  string   `json:"outcome"`
	Reasons  []string `json:"reasons"`
	Attempts int      `json:"attempts"`
	Domains  []struct {
		Domain   string `json:"domain"`
		Outcome  string `json:"outcome"`
		Reason   string `json:"reason"`
		Attempts int    `json:"attempts"`
		Entries  int    `json:"entries"`
		Skipped  int    `json:"skipped"`
		Mode     string `json:"mode"`
		counts
	} `json:"domains"`
	Totals counts `json:"totals"`
}

type counts struct {
	Created     int `json:"created"`
	Updated     int `json:"updated"`
	Deactivated int `json:"deactivated"`
	Reactivated int `json:"reactivated"`
	Unchanged   int `json:"unchanged"`
	Joined      int `json:"joined"` // group memberships gained
	Left        int `json:"left"`
}

func (c counts) String() string {
	s := fmt.Sprintf("created %d, updated %d, deactivated %d, reactivated %d, unchanged %d",
		c.Created, c.Updated, c.Deactivated, c.Reactivated, c.Unchanged)
	if c.Joined != 0 || c.Left != 0 {
		s += fmt.Sprintf(", joined %d, left %d", c.Joined, c.Left)
	}
	return s
}

// runResult is one measured `job run --wait`.
type runResult struct {
	Label    string
	Wall     time.Duration // from the start of `job run --wait` to its exit
	CLICPU   time.Duration
	OtherCPU time.Duration // CPU used by processes the bench did not start (includes itself)
	Summary  summary
	Entries  int
	Usage    map[string]usage
	Timeline map[string]evStat
	Warnings map[string][]string // WARN/ERROR log lines of each process during the run
	Problems []string            // failed checks
	// The account change feed: the changes the run made (FeedWant), the
	// account.changed.v1 events seen (FeedSeen), and when the last one was
	// (FeedDone, since the run's start), and how many were seen by the
	// run's end (FeedAtEnd).
	FeedWant, FeedSeen, FeedAtEnd int
	FeedDone                      time.Duration
	FeedErr                       string // why the feed's stream could not be read, if it could not
}

// run times one `adsync job run NAME --wait --json`.
func (s *system) run(ctx context.Context, label, job string, d *directory, timeout time.Duration) (*runResult, error) {
	r := &runResult{Label: label, Warnings: map[string][]string{}}
	var watch []watched
	for name, c := range s.allChildren() {
		watch = append(watch, watched{name: name, pid: c.pid()})
	}
	if pid := d.serverPID(); pid != 0 {
		watch = append(watch, watched{name: "directory server", pid: pid, tree: true})
	}
	offsets := map[string]int64{}
	for name, c := range s.allChildren() {
		if fi, err := os.Stat(c.logPath); err == nil {
			offsets[name] = fi.Size()
		}
	}
	smp := startSampler(watch)
	cmd := exec.Command(s.o.adsync, "job", "run", job, "--wait", "--json", "--timeout", timeout.String(), "-c", s.cfgPath)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	t0 := time.Now()
	if s.timeline != nil {
		s.timeline.restart(t0)
	}
	err := runCmd(ctx, cmd)
	r.Wall = time.Since(t0)
	if s.timeline != nil {
		_, r.FeedAtEnd = s.timeline.feedSoFar()
	}
	if s.timeline != nil && err == nil {
		// The account change feed is published as the changes are
		// applied, and may end after the run: one account.changed.v1 per
		// change, counted with the run's CPU.
		var sum summary
		if json.Unmarshal(out.Bytes(), &sum) == nil {
			t := sum.Totals
			r.FeedWant = t.Created + t.Updated + t.Deactivated + t.Reactivated
			r.FeedDone, r.FeedSeen = s.timeline.waitFeed(r.FeedWant, 2*time.Minute)
			if err := s.timeline.feedErr(); err != nil {
				r.FeedErr = fmt.Sprintf(" (reading the feed's stream: %v)", err)
			}
		}
	}
	var busy time.Duration
	r.Usage, busy = smp.finish()
	if ps := cmd.ProcessState; ps != nil {
		r.CLICPU = ps.UserTime() + ps.SystemTime()
	}
	// What the rest of the machine used meanwhile: a busy neighbour makes
	// the figures noisy on 2 cores.
	r.OtherCPU = busy - r.CLICPU
	for _, u := range r.Usage {
		r.OtherCPU -= u.CPU
	}
	r.OtherCPU = max(0, r.OtherCPU)
	if s.timeline != nil {
		r.Timeline = s.timeline.snapshot()
	}
	for name, c := range s.allChildren() {
		r.Warnings[name] = warnLines(c.logPath, offsets[name])
	}
	if jerr := json.Unmarshal(out.Bytes(), &r.Summary); jerr != nil {
		return r, fmt.Errorf("job run %s printed no summary (%v; exit: %v)\nstdout: %s\nstderr: %s", job, jerr, err,
			strings.TrimSpace(out.String()), strings.TrimSpace(errb.String()))
	}
	for _, dom := range r.Summary.Domains {
		r.Entries += dom.Entries
	}
	if err != nil {
		r.Problems = append(r.Problems, fmt.Sprintf("job run exited with %v: %s", err, strings.TrimSpace(errb.String())))
	}
	for name, c := range s.allChildren() {
		if c.exited() {
			r.Problems = append(r.Problems, fmt.Sprintf("%s exited during the run (%v); log tail:\n%s", name, c.waitErr, tailFile(c.logPath, 15)))
		}
	}
	return r, nil
}

// check compares a run's summary with what it must say.
func (r *runResult) check(n int, want counts) {
	if r.Summary.Outcome != "completed" {
		r.Problems = append(r.Problems, fmt.Sprintf("outcome %q, reasons %q", r.Summary.Outcome, r.Summary.Reasons))
	}
	if r.Entries != n {
		r.Problems = append(r.Problems, fmt.Sprintf("entries %d, want %d", r.Entries, n))
	}
	if r.FeedSeen != r.FeedWant {
		r.Problems = append(r.Problems, fmt.Sprintf("the account feed brought %d changes; want %d%s", r.FeedSeen, r.FeedWant, r.FeedErr))
	}
	if r.Summary.Totals != want {
		r.Problems = append(r.Problems, fmt.Sprintf("counts: %s; want %s", r.Summary.Totals, want))
	}
}

func (s *system) allChildren() map[string]*child {
	m := map[string]*child{}
	for k, v := range s.svc {
		m[k] = v
	}
	if s.nats != nil {
		m["nats-server"] = s.nats
	}
	return m
}

// settle waits until adsync's processes are idle (at most one clock tick,
// 10 ms, of CPU in 200 ms), at most 10 s.
func (s *system) settle(ctx context.Context) {
	waitQuiet(ctx, func() (t time.Duration) {
		for _, c := range s.allChildren() {
			t += cpuTime(c.pid())
		}
		return t
	}, time.Second/clockTicks)
}

// stop stops the services (SIGTERM: they drain and must exit 0), then
// nats-server. It returns the problems seen.
func (s *system) stop() []string {
	var problems []string
	s.timeline.close()
	procs := s.o.layout.procs
	for i := len(procs) - 1; i >= 0; i-- {
		c := s.svc[procs[i]]
		if c == nil {
			continue
		}
		t0 := time.Now()
		if err := c.stop(60 * time.Second); err != nil {
			problems = append(problems, fmt.Sprintf("%s did not stop cleanly on SIGTERM after %s: %v; log tail:\n%s",
				c.name, since(t0), err, tailFile(c.logPath, 10)))
		}
		children.remove(c)
	}
	if s.nats != nil {
		_ = s.nats.stop(15 * time.Second)
		children.remove(s.nats)
	}
	return problems
}

// diskUsage returns the bytes under dir.
func diskUsage(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			if fi, err := e.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// warnLines returns the WARN and ERROR lines written to a JSON log after
// offset.
func warnLines(path string, offset int64) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	if _, err := f.Seek(offset, 0); err != nil {
		return nil
	}
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(f)
	var out []string
	for _, line := range strings.Split(buf.String(), "\n") {
		if strings.Contains(line, `"level":"WARN"`) || strings.Contains(line, `"level":"ERROR"`) ||
			strings.Contains(line, "[WRN]") || strings.Contains(line, "[ERR]") {
			out = append(out, line)
		}
	}
	return out
}

// freePort returns a port that was free on 127.0.0.1, below the kernel's
// ephemeral range (32768-60999), so that no outgoing connection takes it.
func freePort() (int, error) {
	for tries := 0; tries < 200; tries++ {
		p := 20000 + rand.IntN(12000)
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		ln.Close()
		return p, nil
	}
	return 0, errors.New("no free port in 20000-31999")
}

func waitNATS(ctx context.Context, url string, c *child) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		nc, err := nats.Connect(url, nats.Timeout(time.Second))
		if err == nil {
			nc.Close()
			return nil
		}
		if c.exited() {
			return fmt.Errorf("nats-server exited at start (%v):\n%s", c.waitErr, tailFile(c.logPath, 15))
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("nats-server did not answer on %s: %v\n%s", url, err, tailFile(c.logPath, 15))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitLog waits until c's log contains marker.
func waitLog(ctx context.Context, c *child, marker string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if b, err := os.ReadFile(c.logPath); err == nil && bytes.Contains(b, []byte(marker)) {
			return nil
		}
		if c.exited() {
			return fmt.Errorf("adsync serve %s exited at start (%v):\n%s", c.name, c.waitErr, tailFile(c.logPath, 15))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("adsync serve %s did not log %q within %s:\n%s", c.name, marker, timeout, tailFile(c.logPath, 15))
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(50 * time.Millisecond)
	}
}

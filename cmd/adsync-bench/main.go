// Command bench measures adsync against the raw directory read on this
// machine and prints a Markdown table (`make bench`).
//
// For each N (default 10,000 and 100,000; 1,000,000 with BENCH_LARGE=1 or
// BENCH_N=1000000) it
//
//  1. loads a private OpenLDAP slapd offline (slapadd) with N inetOrgPerson
//     users (internal/testenv) and starts it;
//  2. times the raw read: a paged ldapsearch (-E pr=1000/noprompt) of the
//     same base, filter and attributes as adsync, to /dev/null, 3 times
//     after one untimed counting run; the median counts;
//  3. starts one nats-server (JetStream) and the five services as separate
//     OS processes (`adsync serve SERVICE`), creates a job and times
//     `adsync job run bench --wait --json`: the first, full sync, then runs
//     with no change (3 by default, the median counts), whose summaries
//     must say unchanged N;
//  4. records each process's peak RSS (VmHWM reset before each run with
//     /proc/PID/clear_refs, plus VmRSS sampled every 50 ms) and CPU time,
//     and when the pipeline's events went through NATS.
//
// Unless BENCH_DELTA=0 it also uses the shared Samba AD DC (testenv) with a
// dedicated OU of 10,000 users (created with BulkAddUsers) for the delta
// figures: a full run after 1% of them changed, then delta runs, each
// after another 1% changed (3 by default, the median counts), and a full
// run that must find nothing left to do. At the end it removes what it
// made: the DC if it provisioned it, else the OU if it created it (an OU
// kept by an earlier bench stays). -keep-samba (BENCH_KEEP_SAMBA=1) keeps
// both for the next bench, which saves the minutes of creating them.
// Everything else (slapd, NATS, data) is removed at the end.
//
// Both contenders use the same transport: LDAPS by default, plain ldap://
// (adsync: insecure_plaintext) with -transport ldap.
//
// Usage: bench [flags]; see -h. Environment: BENCH_N (comma-separated),
// BENCH_LARGE=1, BENCH_DELTA=0, BENCH_KEEP_SAMBA=1, BENCH_IDS=random (entryUUIDs in no order, as
// Active Directory objectGUIDs are), BENCH_PROFILE=DIR (or 1 for ./bench-profiles).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	layout       layout
	oneProcess   bool
	ns           []int
	adsync       string
	natsServer   string
	transport    string
	plaintext    bool
	rawRuns      int
	firstRuns    int
	changeRuns   int
	runTimeout   time.Duration
	logLevel     string
	cpuSched     string
	timeline     bool
	keep         bool
	strict       bool
	profileDir   string
	profileOK    bool
	randomIDs    bool
	shuffled     bool // slapd users' names in no order (-names shuffled)
	groups       int  // groups a slapd user is in
	delta        bool
	api          bool
	keepSamba    bool
	deltaUsers   int
	deltaChanged float64
	out          string
	scratch      string
}

var (
	benchStart  = time.Now()
	loadAtStart = loadavg()
)

// loadavg returns the 1-minute load average.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}

func main() { os.Exit(realMain()) }

func realMain() int {
	o, err := parseOptions(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := preflight(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	}
	o.scratch, err = os.MkdirTemp("", "adsync-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	}
	defer func() {
		children.stopAll(10 * time.Second)
		if o.keep {
			_ = os.Remove(filepath.Join(o.scratch, "bench.pid"))
			logf("kept %s", o.scratch)
		} else if err := os.RemoveAll(o.scratch); err != nil {
			logf("remove %s: %v", o.scratch, err)
		}
	}()
	logf("scratch directory %s", o.scratch)
	if err := os.WriteFile(filepath.Join(o.scratch, "bench.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		logf("write pid file: %v", err)
	}
	removeStaleScratch(o.scratch)

	if o.natsServer == "" {
		o.natsServer = filepath.Join(o.scratch, "nats-server")
		t0 := time.Now()
		out, err := buildNATS(ctx, o.natsServer)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: build nats-server: %v\n%s\n", err, out)
			return 2
		}
		logf("built nats-server from the Go module in %s", since(t0))
	}
	detectProfiling(ctx, o)

	rep := &report{o: o}
	for _, n := range o.ns {
		if ctx.Err() != nil {
			break
		}
		c := runSlapdCase(ctx, o, n)
		rep.cases = append(rep.cases, c)
		if c.Err != nil {
			logf("N=%d failed: %v", n, c.Err)
		}
	}
	if o.delta && ctx.Err() == nil {
		c := runSambaCase(ctx, o)
		rep.cases = append(rep.cases, c)
		if c.Err != nil {
			logf("delta (Samba) failed: %v", c.Err)
		}
	}
	rep.elapsed = time.Since(benchStart)
	text := rep.render()
	fmt.Print(text)
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(text), 0o644); err != nil {
			logf("write %s: %v", o.out, err)
		}
	}
	switch {
	case ctx.Err() != nil:
		logf("interrupted")
		return 130
	case rep.failed():
		return 1
	case o.strict && rep.missedTargets():
		return 3
	}
	return 0
}

func parseOptions(args []string) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	nList := fs.String("n", envOr("BENCH_N", "10000,100000"), "comma-separated directory sizes (env BENCH_N)")
	large := fs.Bool("large", os.Getenv("BENCH_LARGE") != "" && os.Getenv("BENCH_LARGE") != "0", "also 1,000,000 users (env BENCH_LARGE=1)")
	fs.StringVar(&o.adsync, "adsync", "bin/adsync", "adsync binary (make build)")
	fs.StringVar(&o.natsServer, "nats-server", "", "nats-server binary (default: built from the Go module into the scratch dir)")
	fs.StringVar(&o.transport, "transport", "ldaps", "ldaps (both contenders over TLS) or ldap (both plain ldap://, adsync with insecure_plaintext)")
	fs.IntVar(&o.rawRuns, "raw-runs", 3, "timed ldapsearch runs (median)")
	fs.IntVar(&o.firstRuns, "first-sync-runs", 3, "timed first syncs (median), each by a new adsync on empty stores")
	fs.IntVar(&o.changeRuns, "no-change-runs", 3, "timed no-change job runs (median), as for the raw read")
	fs.DurationVar(&o.runTimeout, "run-timeout", 0, "time limit of each job run (0: 2m + 1ms per user)")
	fs.StringVar(&o.logLevel, "log-level", "info", "adsync services' log level (debug adds per-batch lines)")
	fs.StringVar(&o.cpuSched, "cpu-scheduling", "", "adsync services' process.cpu_scheduling: batch or normal (empty: not written, adsync's default, batch; for builds older than the setting)")
	fs.BoolVar(&o.oneProcess, "one-process", os.Getenv("BENCH_ONE_PROCESS") == "1", "run adsync as one `adsync run` process with its embedded NATS server, as most users start it (env BENCH_ONE_PROCESS=1); default: five `adsync serve` processes and a nats-server")
	fs.BoolVar(&o.timeline, "timeline", true, "record when events pass through NATS (a core subscription on adsync.*.*.*) and when the account change feed's stream has the run's changes")
	fs.BoolVar(&o.keep, "keep", false, "keep the scratch directory (logs, data)")
	fs.BoolVar(&o.strict, "strict", false, "exit 3 when a target is missed")
	profile := fs.String("profile", profileEnv(), "write profiles to `DIR`: --cpuprofile/--memprofile DIR/n<N>-<service>.{cpu,mem} for each adsync serve, if it has those flags (env BENCH_PROFILE; 1 = ./bench-profiles)")
	ids := fs.String("ids", envOr("BENCH_IDS", "random"), "entryUUIDs of the slapd users: random (the default, as Active Directory's objectGUIDs) or ordered (slapadd's own, time-based) (env BENCH_IDS)")
	names := fs.String("names", envOr("BENCH_NAMES", "ordered"), "order of the slapd users' names in the read: ordered (the default, uid=user0000001 first) or shuffled (in no order, as Active Directory hands out users created over the years) (env BENCH_NAMES)")
	groupsEnv, groupsErr := strconv.Atoi(envOr("BENCH_GROUPS", "0"))
	fs.IntVar(&o.groups, "groups", groupsEnv, "groups each slapd user is a member of, out of 100 (memberOf and member both written; env BENCH_GROUPS); default none")
	fs.BoolVar(&o.delta, "delta", os.Getenv("BENCH_DELTA") != "0", "Samba AD delta figures (env BENCH_DELTA=0 leaves them out; minutes to create their fixture)")
	fs.BoolVar(&o.api, "api", os.Getenv("BENCH_API") != "0", "API and SCIM figures over HTTP after each slapd case's runs (env BENCH_API=0 leaves them out)")
	fs.BoolVar(&o.keepSamba, "keep-samba", os.Getenv("BENCH_KEEP_SAMBA") == "1", "keep the Samba AD DC and the bench's OU for the next bench (env BENCH_KEEP_SAMBA=1); default: remove what this bench made")
	fs.IntVar(&o.deltaUsers, "delta-users", 10000, "users in the Samba bench OU")
	fs.Float64Var(&o.deltaChanged, "delta-changed", 0.01, "fraction of the Samba users changed before the delta run")
	fs.StringVar(&o.out, "out", "", "also write the report to this file")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	o.layout = layoutFor(o.oneProcess)
	for _, f := range strings.FieldsFunc(*nList, func(r rune) bool { return r == ',' || r == ' ' }) {
		n, err := strconv.Atoi(strings.ReplaceAll(f, "_", ""))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bad N %q in -n/BENCH_N", f)
		}
		o.ns = append(o.ns, n)
	}
	if *large && !containsInt(o.ns, 1_000_000) {
		o.ns = append(o.ns, 1_000_000)
	}
	if len(o.ns) == 0 {
		return nil, errors.New("no N to measure")
	}
	if groupsErr != nil || o.groups < 0 || o.groups > 100 {
		return nil, fmt.Errorf("-groups/BENCH_GROUPS must be a number from 0 to 100, not %q", envOr("BENCH_GROUPS", strconv.Itoa(o.groups)))
	}
	switch *ids {
	case "ordered":
	case "random":
		o.randomIDs = true
	default:
		return nil, fmt.Errorf("-ids must be ordered or random, not %q", *ids)
	}
	switch *names {
	case "ordered":
	case "shuffled":
		o.shuffled = true
	default:
		return nil, fmt.Errorf("-names must be ordered or shuffled, not %q", *names)
	}
	switch o.transport {
	case "ldaps":
	case "ldap":
		o.plaintext = true
	default:
		return nil, fmt.Errorf("-transport must be ldaps or ldap, not %q", o.transport)
	}
	if o.rawRuns < 1 {
		return nil, errors.New("-raw-runs must be at least 1")
	}
	if o.firstRuns < 1 {
		return nil, errors.New("-first-sync-runs must be at least 1")
	}
	if o.changeRuns < 1 {
		return nil, errors.New("-no-change-runs must be at least 1")
	}
	if *profile != "" {
		abs, err := filepath.Abs(*profile)
		if err != nil {
			return nil, err
		}
		o.profileDir = abs
	}
	return o, nil
}

func profileEnv() string {
	switch v := os.Getenv("BENCH_PROFILE"); v {
	case "", "0":
		return ""
	case "1":
		return "bench-profiles"
	default:
		return v
	}
}

func envOr(k, def string) string {
	if v := strings.TrimSpace(os.Getenv(k)); v != "" {
		return v
	}
	return def
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// preflight checks tools and the adsync binary before anything starts.
func preflight(o *options) error {
	if runtime.GOOS != "linux" {
		return errors.New("the bench reads /proc: Linux only")
	}
	var missing []string
	for _, bin := range []string{"slapd", "slapadd", "ldapsearch"} {
		if _, err := exec.LookPath(bin); err != nil {
			if _, err2 := os.Stat("/usr/sbin/" + bin); err2 != nil {
				missing = append(missing, bin)
			}
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s not found: install the Debian packages slapd ldap-utils (make deps)", strings.Join(missing, ", "))
	}
	if !strings.Contains(os.Getenv("PATH"), "/usr/sbin") {
		os.Setenv("PATH", os.Getenv("PATH")+":/usr/sbin")
	}
	abs, err := filepath.Abs(o.adsync)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(abs); err != nil || fi.IsDir() {
		return fmt.Errorf("adsync binary %s not found: run make build (or pass -adsync)", abs)
	}
	o.adsync = abs
	if o.natsServer != "" {
		if o.natsServer, err = filepath.Abs(o.natsServer); err != nil {
			return err
		}
	}
	if o.delta && os.Geteuid() != 0 {
		return errors.New("-delta needs root: the Samba AD DC binds 127.0.0.1:389/636")
	}
	return nil
}

// buildNATS builds nats-server from the module's go.mod requirement.
func buildNATS(ctx context.Context, dst string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	goBin := "go"
	if g := os.Getenv("GO"); g != "" {
		goBin = g
	}
	cmd := exec.Command(goBin, "build", "-o", dst, "github.com/nats-io/nats-server/v2")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	_ = ctx
	return string(out), err
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory: run the bench from the repository")
		}
		dir = parent
	}
}

// detectProfiling checks whether `adsync serve` accepts --cpuprofile and
// --memprofile; the bench passes them only if it does.
func detectProfiling(ctx context.Context, o *options) {
	if o.profileDir == "" {
		return
	}
	help, _ := output(ctx, o.adsync, "serve", "--help")
	if strings.Contains(help, "--cpuprofile") && strings.Contains(help, "--memprofile") {
		if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
			logf("profile: %v", err)
			return
		}
		o.profileOK = true
		logf("profile: writing CPU and heap profiles to %s", o.profileDir)
		return
	}
	logf("profile: cannot profile: `%s serve --help` lists no --cpuprofile/--memprofile flags; no profiles collected", o.adsync)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[bench %6.1fs] %s\n", time.Since(benchStart).Seconds(), fmt.Sprintf(format, args...))
}

func since(t time.Time) time.Duration { return time.Since(t).Round(time.Millisecond) }

// removeStaleScratch removes the scratch directories of earlier benches
// that were killed before they could clean up (their pid is gone). A dir
// without a pid file is left alone: it may be a -keep dir.
func removeStaleScratch(current string) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "adsync-bench-*"))
	for _, d := range dirs {
		if d == current {
			continue
		}
		b, err := os.ReadFile(filepath.Join(d, "bench.pid"))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 {
			continue
		}
		if err := syscall.Kill(pid, 0); err == nil || errors.Is(err, syscall.EPERM) {
			continue // still running
		}
		if err := os.RemoveAll(d); err == nil {
			logf("removed %s, left behind by a killed bench (pid %d)", d, pid)
		}
	}
}

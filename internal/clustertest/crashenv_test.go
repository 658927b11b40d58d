package clustertest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/app"
	"github.com/adsync/adsync/internal/cli"
	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/internal/presence"
	"github.com/adsync/adsync/internal/testenv/slapd"
	"github.com/adsync/adsync/services/account-writer/accounts"
)

// Helpers of the crash tests (crash_test.go, restart_test.go,
// ticks_test.go; crashapply_test.go, natsserver_test.go): a configuration
// for one NATS server or the embedded one, `adsync run` and command lines
// as processes that a test can stop (SIGSTOP) and kill, a record of the
// events on the bus, what a killed process held, and checks of a run's
// report, of the accounts' active state and of the pipeline at rest.

// crashAckWait is the consumers' ack wait in the crash tests: a message
// whose handler was killed is redelivered this long after its last
// in-progress beat.
const crashAckWait = "3s"

// crashPageSize is the LDAP page size: a read of 10,000 users is 100
// round trips (and 10 directory.page events of 1,000 entries).
const crashPageSize = 100

// disabledFilter marks the inactive users of the crash tests' directory.
const disabledFilter = "(employeeType=disabled)"

// crashConfigOptions are the parts of a crash test's configuration.
type crashConfigOptions struct {
	natsURL string // "" with listen: `adsync run` embeds the server
	listen  string
	dataDir string
	// wholeFirstSync: a first sync applies whole at the end, in one
	// transaction (accounts.stream_first_sync: false), as every other run.
	wholeFirstSync bool
	// cpuScheduling is process.cpu_scheduling ("": not set, the default).
	cpuScheduling string
}

// writeCrashConfig writes a configuration with replicas 1, a short ack
// wait, a small LDAP page size and a disabled filter for the slapd domain
// "lab", and returns its path.
func writeCrashConfig(t *testing.T, dir string, openldap *slapd.Server, o crashConfigOptions) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "data_dir: %s\n", o.dataDir)
	fmt.Fprintf(&b, "nats:\n  url: %q\n  replicas: 1\n  ack_wait: %s\n", o.natsURL, crashAckWait)
	if o.listen != "" {
		fmt.Fprintf(&b, "  listen: %s\n", o.listen)
	}
	b.WriteString("log:\n  level: info\n")
	if o.wholeFirstSync {
		b.WriteString("accounts:\n  stream_first_sync: false\n")
	}
	if o.cpuScheduling != "" {
		fmt.Fprintf(&b, "process:\n  cpu_scheduling: %s\n", o.cpuScheduling)
	}
	b.WriteString("domains:\n")
	fmt.Fprintf(&b, "  - name: lab\n    type: ldap\n    url: %s\n    ca_file: %s\n    tls_server_name: %s\n", openldap.LDAPSURL, openldap.CAFile, openldap.ServerName)
	fmt.Fprintf(&b, "    bind_dn: %q\n    bind_password_file: %s\n    base_dn: %q\n", openldap.BindDN, openldap.PasswordFile, openldap.UsersDN)
	fmt.Fprintf(&b, "    page_size: %d\n    disabled_filter: %q\n", crashPageSize, disabledFilter)
	path := filepath.Join(dir, "adsync.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// freeListenAddr returns a free loopback address below the kernel's
// ephemeral ports (as e2e does), so that nothing takes it while an
// embedded server that a test killed is down.
func freeListenAddr(t *testing.T) string {
	t.Helper()
	for range 200 {
		addr := fmt.Sprintf("127.0.0.1:%d", 10000+rand.IntN(10000))
		if l, err := net.Listen("tcp", addr); err == nil {
			l.Close()
			return addr
		}
	}
	t.Fatal("no free port in 10000-19999")
	return ""
}

// launchRun starts `adsync run -c config` (all five services and the
// embedded NATS server) without waiting for it; owner stops it (SIGTERM,
// must exit 0) when it ends. It is a Service named "run": waitRunning,
// Kill and Log work as for `adsync serve`.
func launchRun(t, owner *testing.T, dir, config string) *Service {
	t.Helper()
	logFile, err := os.CreateTemp(dir, "run-*.log")
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(adsyncBin, "run", "-c", config)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start adsync run: %v", err)
	}
	s := &Service{Name: "run", LogFile: logFile.Name(), cmd: cmd, done: make(chan struct{})}
	go func() { s.err = cmd.Wait(); close(s.done) }()
	owner.Cleanup(func() { s.stop(owner) })
	return s
}

// seenEvent is one event published on adsync.> as a test saw it.
type seenEvent struct {
	Name  string // wire name, e.g. directory.page.v1
	RunID string
	Job   string
	At    time.Time
	Data  []byte
}

// eventLog records every run event published on the bus (a core
// subscription to adsync.>, which sees a publication even when JetStream
// drops it as a duplicate).
type eventLog struct {
	mu     sync.Mutex
	events []seenEvent
	added  chan struct{} // closed (and replaced) when an event is added
}

// watchEvents subscribes nc to adsync.> until the test ends.
func watchEvents(t *testing.T, nc *nats.Conn) *eventLog {
	t.Helper()
	l := &eventLog{added: make(chan struct{})}
	sub, err := nc.Subscribe(events.SubjectPrefix+">", func(m *nats.Msg) {
		name := bus.NameFromSubject(m.Subject)
		if strings.HasPrefix(name, "api.") || strings.HasPrefix(name, "deadletter.") {
			return
		}
		var head events.Run
		_ = json.Unmarshal(m.Data, &head)
		e := seenEvent{Name: name, RunID: head.RunID, Job: head.Job, At: time.Now()}
		if !strings.HasPrefix(name, "directory.page.") && !strings.HasPrefix(name, "account.changes.") {
			e.Data = m.Data // the bulk events are not kept
		}
		l.mu.Lock()
		l.events = append(l.events, e)
		close(l.added)
		l.added = make(chan struct{})
		l.mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return l
}

// all returns the events of a job with a wire name.
func (l *eventLog) all(job, name string) []seenEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []seenEvent
	for _, e := range l.events {
		if e.Job == job && e.Name == name {
			out = append(out, e)
		}
	}
	return out
}

// wait waits for the first event of a job with a wire name; it returns
// as soon as the event arrives (a test kills a process at that moment).
func (l *eventLog) wait(t *testing.T, job, name string, timeout time.Duration) seenEvent {
	t.Helper()
	return l.waitMatch(t, name+" of job "+job, timeout, func(e seenEvent) bool { return e.Job == job && e.Name == name })
}

// waitMatch waits for the first event that match accepts.
func (l *eventLog) waitMatch(t *testing.T, what string, timeout time.Duration, match func(seenEvent) bool) seenEvent {
	t.Helper()
	deadline := time.After(timeout)
	seen := 0
	for {
		l.mu.Lock()
		added, events := l.added, l.events[seen:]
		seen = len(l.events)
		l.mu.Unlock()
		for _, e := range events {
			if match(e) {
				return e
			}
		}
		select {
		case <-added:
		case <-deadline:
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
	}
}

// Wire names the crash tests wait for.
var (
	evRequested        = (events.SyncRequested{}).EventName()
	evPage             = (events.DirectoryPage{}).EventName()
	evChanges          = (events.AccountChanges{}).EventName()
	evDirCompleted     = (events.DirectoryCompleted{}).EventName()
	evChangesCompleted = (events.ChangesCompleted{}).EventName()
	evSyncCompleted    = (events.SyncCompleted{}).EventName()
)

// crashUser is a directory user as the crash tests compare it.
type crashUser struct {
	Username, Email string
	Disabled        bool
}

// readDirectory reads every inetOrgPerson of the slapd over LDAPS, keyed
// by entryUUID, with whether it matches the disabled filter.
func readDirectory(t *testing.T, s *slapd.Server) map[string]crashUser {
	t.Helper()
	entries := s.Users(t, "entryUUID", "uid", "mail", "employeeType")
	users := make(map[string]crashUser, len(entries))
	for _, e := range entries {
		users[e.GetAttributeValue("entryUUID")] = crashUser{Username: e.GetAttributeValue("uid"), Email: e.GetAttributeValue("mail"),
			Disabled: e.GetAttributeValue("employeeType") == "disabled"}
	}
	return users
}

// assertAccountsMatch checks that the accounts are exactly one per
// directory user (no two with one entryUUID or one local name) plus the
// accounts of the users removed from the directory: a user's account has
// its username and email, is active unless the user is disabled
// (inactive: directory-disabled), and a removed user's account is
// inactive (directory-removed).
func assertAccountsMatch(t *testing.T, list []accounts.Account, dir map[string]crashUser, removed map[string]bool) {
	t.Helper()
	var wrong []string
	ids, names := map[string]int{}, map[string]int{}
	for _, a := range list {
		ids[a.ExternalID]++
		names[a.LocalName]++
		u, inDir := dir[a.ExternalID]
		switch {
		case a.Domain != "lab":
			wrong = append(wrong, fmt.Sprintf("account %s is in domain %q", a.ExternalID, a.Domain))
		case inDir && (a.Username != u.Username || a.Email != u.Email):
			wrong = append(wrong, fmt.Sprintf("account %s is %s <%s>, directory %s <%s>", a.ExternalID, a.Username, a.Email, u.Username, u.Email))
		case inDir && a.Active == u.Disabled:
			wrong = append(wrong, fmt.Sprintf("account %s (%s): active %t (%s), directory disabled %t", a.ExternalID, a.Username, a.Active, a.InactiveReason, u.Disabled))
		case inDir && u.Disabled && a.InactiveReason != events.ReasonDirectoryDisabled:
			wrong = append(wrong, fmt.Sprintf("account %s (%s): inactive for %q, want %s", a.ExternalID, a.Username, a.InactiveReason, events.ReasonDirectoryDisabled))
		case !inDir && !removed[a.ExternalID]:
			wrong = append(wrong, fmt.Sprintf("account %s (%s) is no directory entryUUID", a.ExternalID, a.Username))
		case !inDir && (a.Active || a.InactiveReason != events.ReasonDirectoryRemoved):
			wrong = append(wrong, fmt.Sprintf("account %s (%s) of a removed user: active %t, reason %q", a.ExternalID, a.Username, a.Active, a.InactiveReason))
		}
	}
	for id, n := range ids {
		if n > 1 {
			wrong = append(wrong, fmt.Sprintf("%d accounts have external_id %s", n, id))
		}
	}
	for name, n := range names {
		if n > 1 {
			wrong = append(wrong, fmt.Sprintf("%d accounts have local name %s", n, name))
		}
	}
	for id, u := range dir {
		if ids[id] == 0 {
			wrong = append(wrong, fmt.Sprintf("directory user %s (%s) has no account", id, u.Username))
		}
	}
	for id := range removed {
		if ids[id] == 0 {
			wrong = append(wrong, fmt.Sprintf("removed user %s has no account (accounts are never deleted)", id))
		}
	}
	reportWrong(t, fmt.Sprintf("%d accounts, %d directory users, %d removed", len(list), len(dir), len(removed)), wrong)
}

// reportWrong fails the test with the first lines of wrong, if any.
func reportWrong(t *testing.T, what string, wrong []string) {
	t.Helper()
	if len(wrong) == 0 {
		return
	}
	sort.Strings(wrong)
	t.Errorf("%s: %d problems", what, len(wrong))
	for i, w := range wrong {
		if i == 10 {
			t.Errorf("... and %d more", len(wrong)-10)
			break
		}
		t.Error(w)
	}
	t.FailNow()
}

// runReport returns `adsync run show RUN --json`.
func runReport(t *testing.T, config, runID string) accounts.RunReport {
	t.Helper()
	var rep accounts.RunReport
	if err := json.Unmarshal([]byte(mustCLI(t, config, "run", "show", runID, "--json")), &rep); err != nil {
		t.Fatalf("run show %s --json: %v", runID, err)
	}
	return rep
}

// assertAppliedOnce checks a run's report: every account change of want
// (external_id -> op) is listed exactly once, as applied, and nothing
// else is listed.
func assertAppliedOnce(t *testing.T, rep accounts.RunReport, want map[string]string) {
	t.Helper()
	var wrong []string
	rows := map[string][]accounts.Change{}
	for _, c := range rep.Changes {
		rows[c.ExternalID] = append(rows[c.ExternalID], c)
	}
	for id, list := range rows {
		applied := 0
		for _, c := range list {
			if c.Result == accounts.ResultApplied {
				applied++
			}
		}
		op, wanted := want[id]
		switch {
		case !wanted:
			wrong = append(wrong, fmt.Sprintf("%s: %d report rows (%s %s), but the run had nothing to change", id, len(list), list[0].Op, list[0].Result))
		case applied != 1 || len(list) != 1:
			var desc []string
			for _, c := range list {
				desc = append(desc, c.Op+" "+c.Result)
			}
			wrong = append(wrong, fmt.Sprintf("%s: applied %d times, report rows %v, want one %s applied", id, applied, desc, op))
		case list[0].Op != op:
			wrong = append(wrong, fmt.Sprintf("%s: %s applied, want %s", id, list[0].Op, op))
		}
	}
	for id, op := range want {
		if len(rows[id]) == 0 {
			wrong = append(wrong, fmt.Sprintf("%s: %s missing from the report", id, op))
		}
	}
	reportWrong(t, fmt.Sprintf("report of run %s: %d rows, %d changes expected", runIDOf(rep), len(rep.Changes), len(want)), wrong)
}

func runIDOf(rep accounts.RunReport) string {
	if rep.Run == nil {
		return "?"
	}
	return rep.Run.RunID
}

// countsOf counts the ops of want as the totals of a run that read the
// users of dir: every user the run did not change is unchanged (a removed
// user's deactivation is no entry of the read).
func countsOf(want map[string]string, dir map[string]crashUser) events.Counts {
	var c events.Counts
	changed := 0
	for id, op := range want {
		c = c.Add(events.CountOp(op))
		if _, ok := dir[id]; ok {
			changed++
		}
	}
	c.Unchanged = len(dir) - changed
	return c
}

// history returns `adsync job history JOB --json --limit 0`.
func jobHistory(t *testing.T, config, job string) []cli.RunSummary {
	t.Helper()
	var h []cli.RunSummary
	if err := json.Unmarshal([]byte(mustCLI(t, config, "job", "history", job, "--json", "--limit", "0")), &h); err != nil {
		t.Fatalf("job history %s --json: %v", job, err)
	}
	return h
}

// assertNoDeadLetters checks that nothing was dead-lettered.
func assertNoDeadLetters(t *testing.T, config string) {
	t.Helper()
	out := strings.TrimSpace(mustCLI(t, config, "deadletter", "list", "--json"))
	if out != "" && out != "[]" && out != "null" {
		t.Fatalf("dead letters after the crash: %s", out)
	}
}

// waitRunEnd waits, with a context, for a CLI result.
func waitResult(t *testing.T, ch <-chan Result, timeout time.Duration, what string) Result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(timeout):
		t.Fatalf("%s: no result within %v", what, timeout)
	}
	return Result{}
}

// startCLI runs an adsync command line in the background; ctx ending
// kills it.
func startCLI(ctx context.Context, config string, args ...string) <-chan Result {
	ch := make(chan Result, 1)
	go func() { ch <- runCLIContext(ctx, config, args...) }()
	return ch
}

// heldBy returns, per durable consumer of service, the messages delivered
// and not acknowledged: right after a SIGKILL, what the dead process held
// in its handlers (JetStream redelivers them after the ack wait).
func heldBy(t *testing.T, nc *nats.Conn, service string) map[string]int {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, spec := range bus.Consumers() {
		if spec.Service != service {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		cons, err := js.Consumer(ctx, spec.Stream, spec.Durable)
		var info *jetstream.ConsumerInfo
		if err == nil {
			info, err = cons.Info(ctx)
		}
		cancel()
		if err != nil {
			t.Fatalf("consumer %s: %v", spec.Durable, err)
		}
		if info.NumAckPending > 0 {
			out[spec.Durable] = info.NumAckPending
		}
	}
	return out
}

// waitForHeartbeats waits until the heartbeats in adsync_servers show at
// least want[service] live processes of each service.
func waitForHeartbeats(t *testing.T, nc *nats.Conn, want map[string]int) {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	pollFor(t, "service instances", 30*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		kv, err := js.KeyValue(ctx, bus.BucketServers)
		if err != nil {
			return err
		}
		hbs, err := presence.List(ctx, kv, time.Now(), 30*time.Second)
		if err != nil {
			return err
		}
		for svc, n := range want {
			got := 0
			for _, hb := range hbs {
				if slices.Contains(hb.Services, svc) {
					got++
				}
			}
			if got < n {
				return fmt.Errorf("%d %s processes alive, want %d", got, svc, n)
			}
		}
		return nil
	})
}

// storedRuns counts, per run id, the events with a wire name that
// ADSYNC_CONTROL holds: what JetStream kept after de-duplication.
func storedRuns(t *testing.T, nc *nats.Conn, name string) map[string]int {
	t.Helper()
	// The JetStream API of a cluster can be briefly without an answer (a
	// leader moving after a kill): ask again for a while.
	var last error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		out, err := readStoredRuns(nc, name)
		if err == nil {
			return out
		}
		last = err
	}
	t.Fatalf("count stored %s: %v", name, last)
	return nil
}

func readStoredRuns(nc *nats.Conn, name string) (map[string]int, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	subject := events.SubjectOf(name)
	// How many the stream holds, first: a consumer created just after a
	// node came back can answer "nothing yet" to a fetch (it did once, and
	// the count said 0 of a stored sync.completed).
	st, err := js.Stream(ctx, bus.StreamControl)
	if err != nil {
		return nil, err
	}
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(subject))
	if err != nil {
		return nil, err
	}
	want := info.State.Subjects[subject]
	out := map[string]int{}
	if want == 0 {
		return out, nil
	}
	cons, err := js.OrderedConsumer(ctx, bus.StreamControl, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{subject}, DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return nil, err
	}
	var read uint64
	for read < want {
		batch, err := cons.Fetch(500, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return nil, err
		}
		n := 0
		for m := range batch.Messages() {
			n++
			var head events.Run
			_ = json.Unmarshal(m.Data(), &head)
			out[head.RunID]++
		}
		if err := batch.Error(); err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, fmt.Errorf("read %d of the %d %s stored", read, want, name)
		}
		read += uint64(n)
	}
	return out, nil
}

// freeze stops the process (SIGSTOP) until it is killed: it does nothing
// more, and what JetStream delivered to it stays unacknowledged.
func (s *Service) freeze(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("SIGSTOP adsync %s: %v", s.Name, err)
	}
	// A test that fails before it kills or resumes the process must not
	// leave it stopped: it could not drain when it is stopped at the end.
	t.Cleanup(func() { _ = s.cmd.Process.Signal(syscall.SIGCONT) })
}

// dump logs every event seen (for a failed test).
func (l *eventLog) dump(t *testing.T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, e := range l.events {
		fmt.Fprintf(&b, "%s %s %s %s\n", e.At.Format("15:04:05.000"), e.Name, e.Job, e.RunID)
	}
	t.Logf("events seen on the bus:\n%s", b.String())
}

// waitQuiet waits until every durable consumer of the pipeline has
// delivered and settled everything (nothing pending, nothing waiting for
// an acknowledgement): whatever a run set off, late attempts included,
// has been handled.
func waitQuiet(t *testing.T, nc *nats.Conn) {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	pollFor(t, "the pipeline to settle", 2*time.Minute, func() error {
		for _, spec := range bus.Consumers() {
			if !slices.Contains(app.AllServices, spec.Service) {
				continue // the notifier does not run in these tests
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			cons, err := js.Consumer(ctx, spec.Stream, spec.Durable)
			var info *jetstream.ConsumerInfo
			if err == nil {
				info, err = cons.Info(ctx)
			}
			cancel()
			if err != nil {
				return err
			}
			if info.NumPending > 0 || info.NumAckPending > 0 {
				return fmt.Errorf("%s: %d pending, %d unacknowledged", spec.Durable, info.NumPending, info.NumAckPending)
			}
		}
		return nil
	})
}

// readsOf counts the reads of a job's runs that a reader's log shows
// started and ended (each attempt is one read).
func readsOf(log, job string) (started, ended int) {
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, " job="+job+" ") {
			continue
		}
		switch {
		case strings.Contains(line, `msg="reading directory"`):
			started++
		case strings.Contains(line, `msg="directory read"`), strings.Contains(line, `msg="directory read failed"`):
			ended++
		}
	}
	return started, ended
}

// assertNoHeldPlans checks that the deletion guard holds no plan.
func assertNoHeldPlans(t *testing.T, config string) {
	t.Helper()
	if out := strings.TrimSpace(mustCLI(t, config, "run", "held")); out != "no held plans" {
		t.Fatalf("held plans: %s", out)
	}
}

// cliProcess is an adsync command line running in the background.
type cliProcess struct {
	cmd    *exec.Cmd
	result chan Result
}

// startCLIProcess starts adsync with args and -c config; it is killed if
// it still runs when the test ends.
func startCLIProcess(t *testing.T, config string, args ...string) *cliProcess {
	t.Helper()
	var out, errb strings.Builder
	cmd := exec.Command(adsyncBin, append(args, "-c", config)...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start adsync %s: %v", strings.Join(args, " "), err)
	}
	p := &cliProcess{cmd: cmd, result: make(chan Result, 1)}
	go func() {
		err := cmd.Wait()
		p.result <- Result{Stdout: out.String(), Stderr: errb.String(), Err: err}
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return p
}

// signal sends sig to the command line's process.
func (p *cliProcess) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v to adsync: %v", sig, err)
	}
}

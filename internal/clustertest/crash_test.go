package clustertest

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/app"
	"github.com/adsync/adsync/internal/cli"
	"github.com/adsync/adsync/internal/testenv/slapd"
)

// crashUsers is the size of TestServiceCrash's directory.
const crashUsers = 10000

// crashSystem is the deployment of TestServiceCrash: one nats-server, a
// slapd with 10,000 users, and the five services, each its own process.
type crashSystem struct {
	t        *testing.T
	nats     *natsServer
	openldap *slapd.Server
	dir      string
	config   string
	services map[string]*Service
	events   *eventLog
	nc       *nats.Conn
	uuid     map[int]string  // user number -> entryUUID
	removed  map[string]bool // entryUUIDs removed from the directory
	disabled []int           // users the directory has disabled
}

// crashStep is one run in which one service is killed, or stalls.
type crashStep struct {
	name   string
	victim string // the service killed with SIGKILL
	killOn string // … as soon as the run publishes its first event of this name
	// then, if set: the victim is frozen (SIGSTOP) at killOn and killed
	// once the run has published this many more events of that name, which
	// JetStream delivers to the frozen process: it dies holding them.
	then int
	// inApply: the frozen victim (account-writer) is single-stepped into
	// the transaction that applies the run's plan before it is killed.
	inApply bool
	// inPage: … into the transaction that applies a page of a first sync
	// as it arrives, after another page.
	inPage bool
	// stall: the victim is not killed but frozen until JetStream has given
	// up on what it holds (the ack wait passed and the messages were
	// redelivered), then resumed (SIGCONT): a process that stalled.
	stall bool
	// holds says the victim must die with messages delivered to it and not
	// acknowledged (work in hand).
	holds bool
	// change changes the directory before the run and returns what the
	// run must change: entryUUID -> op.
	change func(t *testing.T, c *crashSystem) map[string]string
}

// newCrashSystem starts a nats-server, a slapd with crashUsers users and
// the five services, each its own process, and watches the bus.
// wholeFirstSync makes the first sync apply whole at the end.
func newCrashSystem(t *testing.T, wholeFirstSync bool) *crashSystem {
	t.Helper()
	began := time.Now()
	c := &crashSystem{t: t, nats: startNATSServer(t), removed: map[string]bool{}}
	c.openldap = slapd.Start(t, slapd.WithUsers(crashUsers))
	c.dir = t.TempDir()
	c.config = writeCrashConfig(t, c.dir, c.openldap, crashConfigOptions{natsURL: c.nats.URL, dataDir: filepath.Join(c.dir, "data"), wholeFirstSync: wholeFirstSync})
	c.services = map[string]*Service{}
	for _, name := range app.AllServices {
		c.services[name] = startService(t, c.dir, c.config, name)
	}
	c.nc = c.nats.connect(t)
	c.events = watchEvents(t, c.nc)
	c.uuid = map[int]string{}
	for id, u := range readDirectory(t, c.openldap) {
		var n int
		if _, err := fmt.Sscanf(u.Username, "user%d", &n); err != nil {
			t.Fatalf("unexpected uid %q", u.Username)
		}
		c.uuid[n] = id
	}
	t.Logf("timing: set-up %v", time.Since(began).Round(time.Millisecond))
	return c
}

// run runs the steps in order, each a subtest with its own job, until
// one fails (the next ones would only repeat its failure).
func (c *crashSystem) run(steps []crashStep) {
	for i, st := range steps {
		if !c.t.Run(st.name, func(t *testing.T) { c.crash(t, fmt.Sprintf("step%d", i+1), st) }) {
			return
		}
	}
}

// every50 selects every 50th user (those whose number is r modulo 50): a
// step's changes are spread over every page of the read.
func every50(r int) func(int) bool { return func(i int) bool { return i%50 == r } }

// Each service in turn dies (SIGKILL) in the middle of a full run of
// 10,000 users read 100 per LDAP page (10 directory.page events), and is
// started again: the run completes, its totals are exact, its report lists
// every account change once, applied, and the accounts equal the
// directory (entryUUIDs, uids, mails, active state, removed users
// deactivated). Nothing is dead-lettered, no plan is held. The runs
// create, update, deactivate (disabled, removed) and reactivate accounts.
// A victim is stopped (SIGSTOP) at the chosen moment and then killed:
// directory-reader in the middle of its read, diff and account-writer
// holding pages or batches delivered and not acknowledged, account-writer
// once inside the transaction that applies the first sync's plan; guard
// in the middle of a run; tick in the middle of the run it started (which
// it must not start again).
func TestServiceCrash(t *testing.T) {
	needsCluster(t)
	t.Parallel()
	began := time.Now()
	// The first sync applies whole (stream_first_sync off): its plan of
	// 10,000 creates is applied in one transaction, and account-writer
	// dies inside it. TestAccountWriterDiesInAFirstSyncAppliedAsItReads
	// kills it in the middle of a first sync applied page by page.
	c := newCrashSystem(t, true)
	c.run([]crashStep{
		{name: "kill -9 account-writer while applying the first sync", victim: app.AccountWriter, killOn: evChangesCompleted, inApply: true, holds: true,
			change: allCreated},
		{name: "kill -9 directory-reader", victim: app.DirectoryReader, killOn: evPage, holds: true, change: func(t *testing.T, c *crashSystem) map[string]string {
			want := c.changeMails(t, "reader", every50(1))
			for i := 2; i <= crashUsers; i += 200 {
				c.openldap.Modify(t, c.dn(i), "employeeType", "disabled")
				c.disabled = append(c.disabled, i)
				want[c.uuid[i]] = events.OpDeactivate
			}
			return want
		}},
		{name: "kill -9 diff", victim: app.Diff, killOn: evPage, then: 2, holds: true, change: func(t *testing.T, c *crashSystem) map[string]string {
			want := c.changeMails(t, "diff", every50(3))
			for _, i := range c.disabled {
				c.openldap.Modify(t, c.dn(i), "employeeType")
				want[c.uuid[i]] = events.OpReactivate
			}
			c.disabled = nil
			for i := 5; i <= crashUsers; i += 250 {
				c.openldap.Delete(t, c.dn(i))
				c.removed[c.uuid[i]] = true
				want[c.uuid[i]] = events.OpDeactivate
			}
			return want
		}},
		{name: "kill -9 account-writer while staging", victim: app.AccountWriter, killOn: evChanges, then: 2, holds: true, change: func(t *testing.T, c *crashSystem) map[string]string {
			return c.changeMails(t, "staging", every50(4))
		}},
		{name: "kill -9 guard", victim: app.Guard, killOn: evPage, change: func(t *testing.T, c *crashSystem) map[string]string {
			return c.changeMails(t, "guard", every50(6))
		}},
		{name: "kill -9 tick of a scheduled run", victim: app.Tick, killOn: evPage, change: func(t *testing.T, c *crashSystem) map[string]string {
			return c.changeMails(t, "tick", every50(7))
		}},
	})
	t.Logf("timing: whole test %v", time.Since(began).Round(time.Millisecond))
}

// account-writer dies (SIGKILL) inside the transaction that applies a page
// of a first sync as it arrives (stream_first_sync, the default), holding
// more pages: once it is started again the run completes with exactly the
// 10,000 accounts created once, each listed once in the report.
func TestAccountWriterDiesInAFirstSyncAppliedAsItReads(t *testing.T) {
	needsCluster(t)
	t.Parallel()
	began := time.Now()
	c := newCrashSystem(t, false)
	c.run([]crashStep{
		{name: "kill -9 account-writer while applying a page of the first sync", victim: app.AccountWriter, killOn: evChanges, inPage: true, holds: true,
			change: allCreated},
	})
	t.Logf("timing: whole test %v", time.Since(began).Round(time.Millisecond))
}

// A service that stalls (SIGSTOP: a paused VM or container, a process
// starved of CPU) in the middle of a run for longer than the ack wait, so
// that JetStream redelivers what it held, and then resumes (SIGCONT): the
// run completes once, exactly, and nothing else happens. A stalled
// directory-reader resumes its read while the redelivered request starts
// two more reads of the same domain (attempts 2 and 3) in the same process.
func TestServiceStall(t *testing.T) {
	needsCluster(t)
	t.Parallel()
	began := time.Now()
	c := newCrashSystem(t, false)
	mustCLI(t, c.config, "job", "create", "first", "--all-domains", "--mode", "full")
	if sum := runJob(t, c.config, "first"); sum.Totals.Created != crashUsers {
		t.Fatalf("first sync: totals %+v", sum.Totals)
	}
	c.run([]crashStep{
		{name: "directory-reader stalls while reading", victim: app.DirectoryReader, killOn: evPage, stall: true, holds: true,
			change: func(t *testing.T, c *crashSystem) map[string]string {
				want := c.changeMails(t, "rstall", every50(1))
				for i := 5; i <= crashUsers; i += 250 {
					c.openldap.Delete(t, c.dn(i))
					c.removed[c.uuid[i]] = true
					want[c.uuid[i]] = events.OpDeactivate
				}
				return want
			}},
		{name: "diff stalls holding pages", victim: app.Diff, killOn: evPage, then: 2, stall: true, holds: true, change: func(t *testing.T, c *crashSystem) map[string]string {
			return c.changeMails(t, "dstall", every50(2))
		}},
		{name: "account-writer stalls holding batches", victim: app.AccountWriter, killOn: evChanges, then: 2, stall: true, holds: true, change: func(t *testing.T, c *crashSystem) map[string]string {
			return c.changeMails(t, "wstall", every50(3))
		}},
	})
	t.Logf("timing: whole test %v", time.Since(began).Round(time.Millisecond))
}

// allCreated is a first sync's change: every preloaded user is created.
func allCreated(_ *testing.T, c *crashSystem) map[string]string {
	want := map[string]string{}
	for _, id := range c.uuid {
		want[id] = events.OpCreate
	}
	return want
}

// dn is the DN of preloaded user i.
func (c *crashSystem) dn(i int) string {
	return fmt.Sprintf("uid=user%07d,%s", i, c.openldap.UsersDN)
}

// changeMails gives the users that match (and are still in the
// directory) a new mail tagged with tag, and returns their updates.
func (c *crashSystem) changeMails(t *testing.T, tag string, match func(int) bool) map[string]string {
	t.Helper()
	want := map[string]string{}
	for i := 1; i <= crashUsers; i++ {
		if !match(i) || c.removed[c.uuid[i]] {
			continue
		}
		c.openldap.Modify(t, c.dn(i), "mail", fmt.Sprintf("user%07d.%s@changed.example.org", i, tag))
		want[c.uuid[i]] = events.OpUpdate
	}
	return want
}

// crash changes the directory as the step says, runs job, stops the
// step's victim (SIGSTOP) as soon as the run publishes its first killOn
// event, checks that this is the middle of the run and of the victim's
// work, then kills it (SIGKILL) and starts it again, or resumes it
// (SIGCONT) after a stall; once the run completed and the pipeline
// settled, it checks the run's totals and report, the accounts, and that
// nothing was dead-lettered, held or completed twice.
func (c *crashSystem) crash(t *testing.T, job string, st crashStep) {
	want := st.change(t, c)
	dir := readDirectory(t, c.openldap)
	scheduled := st.victim == app.Tick
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	var result <-chan Result
	if scheduled {
		// tick starts the run: the job's immediate slot.
		mustCLI(t, c.config, "job", "create", job, "--all-domains", "--mode", "full", "--every", "1h", "--run-when", "immediately")
	} else {
		mustCLI(t, c.config, "job", "create", job, "--all-domains", "--mode", "full")
		result = startCLI(ctx, c.config, "job", "run", job, "--wait", "--json", "--timeout", "3m")
	}

	first := c.events.wait(t, job, st.killOn, 2*time.Minute)
	victim := c.services[st.victim]
	// SIGSTOP first: what the process holds at this moment stays held
	// (it can acknowledge nothing more) until SIGKILL.
	victim.freeze(t)
	if st.then > 0 {
		pollFor(t, fmt.Sprintf("%d more %s", st.then, st.killOn), time.Minute, func() error {
			if n := len(c.events.all(job, st.killOn)); n < 1+st.then {
				return fmt.Errorf("%d published", n)
			}
			return nil
		})
	}
	if st.inPage {
		ws := stepIntoPage(t, victim, filepath.Join(c.dir, "data", "accounts.db"), first.RunID)
		t.Logf("account-writer is inside the transaction that applies a page of the first sync: %+v", ws)
	}
	if st.inApply {
		ws := stepIntoApply(t, victim, filepath.Join(c.dir, "data", "accounts.db"), c.events.wait(t, job, evChangesCompleted, time.Minute))
		t.Logf("account-writer is inside the transaction that applies the plan: %+v", ws)
	}
	held := heldBy(t, c.nc, st.victim)
	// Really in the middle: the run has not finished (nor, for a kill on
	// the first page, the read), and the victim was at work.
	if done := c.events.all(job, evSyncCompleted); len(done) > 0 {
		t.Fatalf("the run finished before %s was stopped: not in the middle of a run", st.victim)
	}
	if st.killOn == evPage && st.then == 0 && len(c.events.all(job, evDirCompleted)) > 0 {
		t.Fatalf("the directory was read completely before %s was stopped", st.victim)
	}
	if st.victim == app.DirectoryReader && !readerStuck(victim.Log(), job) {
		t.Fatalf("the reader was not reading when it was stopped:\n%s", tailLines(victim.Log(), 10))
	}
	if st.holds && len(held) == 0 {
		t.Fatalf("%s held no message when it was stopped: not in the middle of its work", st.victim)
	}
	if st.stall {
		c.stallThenResume(t, victim, held)
	} else {
		victim.Kill(t)
	}
	faultAt := time.Now()
	what := "killed"
	if st.stall {
		what = "resumed"
	}
	t.Logf("%s %s %v after the run was requested, %d pages published; it held (delivered, unacknowledged) %v", what,
		st.victim, faultAt.Sub(start).Round(time.Millisecond), len(c.events.all(job, evPage)), held)
	if !st.stall {
		c.services[st.victim] = startServiceFor(t, c.t, c.dir, c.config, st.victim)
		t.Logf("timing: %s running again %v after the kill", st.victim, time.Since(faultAt).Round(time.Millisecond))
	}

	var sum cli.RunSummary
	if scheduled {
		sum = c.awaitScheduled(t, job)
	} else {
		r := waitResult(t, result, 3*time.Minute, "job run "+job)
		sum = parseRun(t, r)
		if r.Err != nil || sum.Outcome != "completed" {
			t.Fatalf("run of %s: outcome %s (exit %v), reasons %v\nstderr: %s", job, sum.Outcome, r.Err, sum.Reasons, r.Stderr)
		}
	}
	t.Logf("timing: run %s completed %v after it was %s (%v in all, %d attempts)", sum.RunID,
		time.Since(faultAt).Round(time.Millisecond), what, time.Since(start).Round(time.Millisecond), sum.Attempts)

	// Whatever the fault set off settles first (a stalled reader's
	// redelivered reads, a redelivered batch): the checks see its effects.
	if st.victim == app.DirectoryReader {
		pollFor(t, "every read of the run to end", time.Minute, func() error {
			if started, ended := readsOf(c.services[app.DirectoryReader].Log(), job); ended < started {
				return fmt.Errorf("%d reads started, %d ended", started, ended)
			}
			return nil
		})
		started, _ := readsOf(c.services[app.DirectoryReader].Log(), job)
		t.Logf("the restarted or resumed reader read the directory %d times for the run", started)
	}
	waitQuiet(t, c.nc)
	if got, want := sum.Totals, countsOf(want, dir); got != want {
		t.Errorf("totals %+v, want %+v", got, want)
	}
	assertAppliedOnce(t, runReport(t, c.config, sum.RunID), want)
	assertAccountsMatch(t, listAccounts(t, c.config), dir, c.removed)
	assertFeedIsStore(t, c)
	assertNoDeadLetters(t, c.config)
	assertNoHeldPlans(t, c.config)
	if n := storedRuns(t, c.nc, evSyncCompleted)[sum.RunID]; n != 1 {
		t.Errorf("ADSYNC_CONTROL holds %d sync.completed of run %s", n, sum.RunID)
	}
	if scheduled {
		// A quiet period for the negative check: the restarted tick looks
		// at the job as soon as it reads it at start, then every second.
		time.Sleep(2 * time.Second)
		if n := len(c.events.all(job, evRequested)); n != 1 {
			t.Errorf("the slot's sync.requested was published %d times: the restarted tick started the slot again", n)
		}
		assertOneRun(t, c.config, job)
	}
}

// stallThenResume keeps the frozen victim stopped for two ack waits, so
// that JetStream takes what it held for lost, then resumes it (SIGCONT).
func (c *crashSystem) stallThenResume(t *testing.T, victim *Service, held map[string]int) {
	t.Helper()
	ackWait, _ := time.ParseDuration(crashAckWait)
	frozen := time.Now()
	time.Sleep(2 * ackWait) // the fault: a stall of two ack waits
	t.Logf("%s stalled %v holding %v; now %v", victim.Name, time.Since(frozen).Round(time.Millisecond), held, heldBy(t, c.nc, victim.Name))
	if err := victim.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
}

// awaitScheduled waits for the scheduled run of job to finish and returns
// its summary from the job history; it must be the job's only run and
// complete.
func (c *crashSystem) awaitScheduled(t *testing.T, job string) cli.RunSummary {
	t.Helper()
	done := c.events.wait(t, job, evSyncCompleted, 3*time.Minute)
	var ev events.SyncCompleted
	if err := json.Unmarshal(done.Data, &ev); err != nil {
		t.Fatal(err)
	}
	var sum cli.RunSummary
	pollFor(t, "the run in the job history", 30*time.Second, func() error {
		for _, r := range jobHistory(t, c.config, job) {
			if r.RunID == ev.RunID && r.FinishedAt != nil {
				sum = r
				return nil
			}
		}
		return fmt.Errorf("run %s not finished in the history", ev.RunID)
	})
	if sum.Outcome != "completed" || sum.Trigger != events.TriggerSchedule {
		t.Fatalf("scheduled run %s: trigger %s, outcome %s, reasons %v", sum.RunID, sum.Trigger, sum.Outcome, sum.Reasons)
	}
	return sum
}

// assertOneRun checks that the job history has exactly one run.
func assertOneRun(t *testing.T, config, job string) {
	t.Helper()
	h := jobHistory(t, config, job)
	if len(h) != 1 {
		for _, r := range h {
			t.Logf("run %s: trigger %s, outcome %s, reasons %v", r.RunID, r.Trigger, r.Outcome, r.Reasons)
		}
		t.Fatalf("job %s has %d runs in its history, want 1", job, len(h))
	}
}

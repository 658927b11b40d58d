package clustertest

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/cli"
	"github.com/adsync/adsync/internal/testenv/slapd"
)

// The one-machine set-up — `adsync run`, one process with the five
// services and the embedded NATS server, data_dir on disk — is killed
// (SIGKILL) in the middle of a run and started again with the same
// configuration: the run resumes and completes, with exact totals, each
// account change applied once, and the accounts equal the directory; the
// `job run --wait` that was waiting prints its summary. Once while
// account-writer applies the first sync's plan (10,000 creates, one
// transaction: the first sync applies whole here, stream_first_sync off),
// once in the middle of the directory read of a run that updates 200
// accounts.
func TestEmbeddedRestart(t *testing.T) {
	needsCluster(t)
	t.Parallel()
	began := time.Now()
	openldap := slapd.Start(t, slapd.WithUsers(crashUsers))
	dir := t.TempDir()
	listen := freeListenAddr(t)
	config := writeCrashConfig(t, dir, openldap, crashConfigOptions{listen: listen, dataDir: filepath.Join(dir, "data"), wholeFirstSync: true})
	proc := startRun(t, t, dir, config)
	// The embedded server takes the token adsync run generated.
	token, err := os.ReadFile(filepath.Join(dir, "data", "nats.token"))
	if err != nil {
		t.Fatal(err)
	}
	nc := connectNATS(t, "nats://"+listen, nats.Token(string(token)))
	log := watchEvents(t, nc)
	mustCLI(t, config, "job", "create", "restart", "--all-domains", "--mode", "full")
	t.Logf("timing: set-up %v", time.Since(began).Round(time.Millisecond))

	uuids := map[int]string{}
	for id, u := range readDirectory(t, openldap) {
		var n int
		if _, err := fmt.Sscanf(u.Username, "user%d", &n); err != nil {
			t.Fatalf("unexpected uid %q", u.Username)
		}
		uuids[n] = id
	}
	tt := t
	round := func(t *testing.T, killOn string, inApply bool, want map[string]string) {
		dirNow := readDirectory(t, openldap)
		earlier := map[string]bool{}
		for _, e := range log.all("restart", evRequested) {
			earlier[e.RunID] = true
		}
		start := time.Now()
		waiting := startCLIProcess(t, config, "job", "run", "restart", "--wait", "--json", "--timeout", "3m")
		t.Cleanup(func() {
			if t.Failed() {
				log.dump(t)
			}
		})
		// This run's first killOn event (the run id is the one no earlier
		// round requested).
		ev := log.waitMatch(t, killOn+" of a new run", 2*time.Minute, func(e seenEvent) bool {
			return e.Job == "restart" && e.Name == killOn && !earlier[e.RunID]
		})
		runID := ev.RunID
		proc.freeze(t)
		// The command that waits for the run is stopped too, and resumed
		// only once the run finished: it reconnects to a server that
		// restarted, and must still find the run's outcome.
		waiting.signal(t, syscall.SIGSTOP)
		defer func() { _ = waiting.cmd.Process.Signal(syscall.SIGCONT) }()
		if inApply {
			ws := stepIntoApply(t, proc, filepath.Join(dir, "data", "accounts.db"), ev)
			t.Logf("account-writer is inside the transaction that applies the plan: %+v", ws)
		}
		proc.Kill(t)
		killedAt := time.Now()
		if hasRunEvent(log, runID, evSyncCompleted) {
			t.Fatalf("run %s finished before adsync run was killed", runID)
		}
		if killOn == evPage && hasRunEvent(log, runID, evDirCompleted) {
			t.Fatalf("run %s: the directory was read completely before adsync run was killed", runID)
		}
		t.Logf("killed adsync run %v after run %s was requested (%d pages published)", killedAt.Sub(start).Round(time.Millisecond),
			runID, countRunEvents(log, runID, evPage))
		proc = startRun(t, tt, dir, config)
		t.Logf("timing: adsync run running again %v after the kill", time.Since(killedAt).Round(time.Millisecond))

		var sum cli.RunSummary
		pollFor(t, "run "+runID+" to finish (job history)", 3*time.Minute, func() error {
			for _, r := range jobHistory(t, config, "restart") {
				if r.RunID == runID && r.FinishedAt != nil {
					sum = r
					return nil
				}
			}
			return fmt.Errorf("not finished")
		})
		t.Logf("timing: run %s %s %v after the kill (%v in all)", runID, sum.Outcome, time.Since(killedAt).Round(time.Millisecond),
			time.Since(start).Round(time.Millisecond))
		if sum.Outcome != events.OutcomeCompleted {
			t.Fatalf("run %s: outcome %s, reasons %v", runID, sum.Outcome, sum.Reasons)
		}
		// The command that was waiting when the process died follows the
		// run across the restart and prints the same summary, although it
		// reconnects only after the run finished.
		waiting.signal(t, syscall.SIGCONT)
		r := waitResult(t, waiting.result, time.Minute, "the job run --wait resumed after the run finished (did it miss sync.completed?)")
		if r.Err != nil {
			t.Errorf("the job run --wait started before the kill: exit %v, stderr %q", r.Err, r.Stderr)
		} else if got := parseRun(t, r); got.RunID != runID || got.Outcome != sum.Outcome || got.Totals != sum.Totals {
			t.Errorf("job run --wait printed run %s %s %+v; the history has %s %s %+v", got.RunID, got.Outcome, got.Totals,
				runID, sum.Outcome, sum.Totals)
		}
		waitQuiet(t, nc)
		if got, want := sum.Totals, countsOf(want, dirNow); got != want {
			t.Errorf("totals %+v, want %+v", got, want)
		}
		assertAppliedOnce(t, runReport(t, config, runID), want)
		assertAccountsMatch(t, listAccounts(t, config), dirNow, nil)
		assertNoDeadLetters(t, config)
		assertNoHeldPlans(t, config)
		if n := storedRuns(t, nc, evSyncCompleted)[runID]; n != 1 {
			t.Errorf("ADSYNC_CONTROL holds %d sync.completed of run %s", n, runID)
		}
	}

	ok := t.Run("killed while account-writer applies the first sync", func(t *testing.T) {
		want := map[string]string{}
		for _, id := range uuids {
			want[id] = events.OpCreate
		}
		round(t, evChangesCompleted, true, want)
	})
	if ok {
		t.Run("killed while reading", func(t *testing.T) {
			want := map[string]string{}
			for i := 3; i <= crashUsers; i += 50 {
				openldap.Modify(t, fmt.Sprintf("uid=user%07d,%s", i, openldap.UsersDN), "mail", fmt.Sprintf("user%07d.restart@changed.example.org", i))
				want[uuids[i]] = events.OpUpdate
			}
			round(t, evPage, false, want)
		})
	}
	t.Logf("timing: whole test %v", time.Since(began).Round(time.Millisecond))
}

// startRun starts `adsync run` and waits until it is running; owner
// stops it when it ends.
func startRun(t, owner *testing.T, dir, config string) *Service {
	t.Helper()
	s := launchRun(t, owner, dir, config)
	if err := s.waitRunning(); err != nil {
		t.Fatal(err)
	}
	return s
}

func hasRunEvent(l *eventLog, runID, name string) bool { return countRunEvents(l, runID, name) > 0 }

// countRunEvents counts the publications of a run's events with a name.
func countRunEvents(l *eventLog, runID, name string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.events {
		if e.RunID == runID && e.Name == name {
			n++
		}
	}
	return n
}

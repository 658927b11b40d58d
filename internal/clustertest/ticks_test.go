package clustertest

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/app"
	"github.com/adsync/adsync/internal/testenv/slapd"
)

// tickUsers is the size of TestTwoTicks' directory.
const tickUsers = 500

// Two tick processes watch the jobs at once when a job with an immediate
// first slot (--every 1h --run-when immediately) is created: both may
// publish the slot's sync.requested, and the job history has exactly one
// run for the slot, which completes. Killed (SIGKILL) and started again,
// neither starts the slot again.
func TestTwoTicks(t *testing.T) {
	needsCluster(t)
	t.Parallel()
	began := time.Now()
	ns := startNATSServer(t)
	openldap := slapd.Start(t, slapd.WithUsers(tickUsers))
	dir := t.TempDir()
	config := writeCrashConfig(t, dir, openldap, crashConfigOptions{natsURL: ns.URL, dataDir: filepath.Join(dir, "data")})
	ticks := []*Service{startService(t, dir, config, app.Tick), startService(t, dir, config, app.Tick)}
	for _, name := range []string{app.Guard, app.DirectoryReader, app.Diff, app.AccountWriter} {
		startService(t, dir, config, name)
	}
	waitForHeartbeats(t, ns.connect(t), map[string]int{app.Tick: 2})
	nc := ns.connect(t)
	log := watchEvents(t, nc)
	t.Logf("timing: set-up %v", time.Since(began).Round(time.Millisecond))

	start := time.Now()
	mustCLI(t, config, "job", "create", "hourly", "--all-domains", "--every", "1h", "--run-when", "immediately")
	done := log.wait(t, "hourly", evSyncCompleted, 2*time.Minute)
	t.Logf("timing: the immediate slot's run finished %v after the job was created", done.At.Sub(start).Round(time.Millisecond))
	requested := log.all("hourly", evRequested)
	t.Logf("sync.requested published %d times by the two ticks (%d and %d log lines)", len(requested),
		strings.Count(ticks[0].Log(), `msg="scheduled run requested"`), strings.Count(ticks[1].Log(), `msg="scheduled run requested"`))
	for _, e := range requested {
		if e.RunID != done.RunID {
			t.Errorf("a second run %s was requested for the slot of %s", e.RunID, done.RunID)
		}
	}

	for _, name := range []string{evRequested, (events.SyncApproved{}).EventName()} {
		if n := storedRuns(t, nc, name)[done.RunID]; n != 1 {
			t.Errorf("ADSYNC_CONTROL holds %d %s of run %s, want 1", n, name, done.RunID)
		}
	}
	h := jobHistory(t, config, "hourly")
	assertOneRun(t, config, "hourly")
	if r := h[0]; r.Outcome != events.OutcomeCompleted || r.Trigger != events.TriggerSchedule || r.Attempts != 1 ||
		r.Totals != (events.Counts{Created: tickUsers}) {
		t.Fatalf("run %s: trigger %s, outcome %s, attempts %d, totals %+v; want a completed scheduled run that created %d accounts",
			r.RunID, r.Trigger, r.Outcome, r.Attempts, r.Totals, tickUsers)
	}
	assertAccountsEqualDirectory(t, listAccounts(t, config), directoryUsers(t, openldap))

	// Both ticks die and start again: the slot is not started again (they
	// read the slots already started before looking at any job).
	before := len(log.all("hourly", evRequested))
	for i := range ticks {
		ticks[i].Kill(t)
		ticks[i] = startService(t, dir, config, app.Tick)
	}
	// A quiet period for the negative check: a tick looks at a job as soon
	// as it reads it at start, and then every second.
	time.Sleep(3 * time.Second)
	if n := len(log.all("hourly", evRequested)); n != before {
		t.Errorf("the restarted ticks requested the slot again: %d publications of sync.requested, %d before", n, before)
	}
	assertOneRun(t, config, "hourly")
	t.Logf("timing: whole test %v", time.Since(began).Round(time.Millisecond))
}

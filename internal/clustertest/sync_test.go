package clustertest

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/app"
	"github.com/adsync/adsync/internal/cli"
	"github.com/adsync/adsync/internal/testenv/natscluster"
	"github.com/adsync/adsync/internal/testenv/slapd"
)

// users is the size of the test directory (domain "lab"), users2 that of
// the second domain ("lab2").
const (
	users  = 3000
	users2 = 500
)

// clusterPageSize is the LDAP page size of TestClusterSync: a full read of
// "lab" is 12 directory.page events, so that a run is still reading when a
// test acts on its first page.
const clusterPageSize = 250

// system is the deployment under test: a NATS cluster, two slapds (two
// domains), and the adsync service processes sharing one configuration
// file.
type system struct {
	t        *testing.T // the whole test: its processes live until it ends
	cluster  *natscluster.Cluster
	openldap *slapd.Server // domain "lab", users users
	slapd2   *slapd.Server // domain "lab2", users2 users
	dir      string
	config   string
	services map[string]*Service
	nc       *nats.Conn // the test's own connection to the cluster
	events   *eventLog  // what the test saw published on adsync.>
}

// The five services, each its own process, sync two directories (3,000
// and 500 users) through a 3-node JetStream cluster with replicas 3;
// guard and directory-reader run twice and every run gives the same
// result, each instance doing part of the work, also once the first
// instances are dead; a run survives the death of the NATS node leading
// each of the streams, the JetStream meta group and account-writer's
// consumer.
func TestClusterSync(t *testing.T) {
	needsCluster(t)
	t.Parallel()
	began := time.Now()
	s := &system{t: t, cluster: natscluster.Start(t)}
	t.Cleanup(func() {
		nodes, _ := filepath.Glob(filepath.Join(s.cluster.Dir, "*", "nats.log"))
		keepLogs(t, nodes...)
	})
	t.Logf("timing: NATS cluster up in %v", time.Since(began).Round(time.Millisecond))
	s.openldap = slapd.Start(t, slapd.WithUsers(users))
	s.slapd2 = slapd.Start(t, slapd.WithUsers(users2))
	s.dir = t.TempDir()
	s.config = writeConfig(t, s.dir, s.openldap, configOptions{natsURL: s.cluster.URLs(), dataDir: filepath.Join(s.dir, "data"),
		second: s.slapd2, pageSize: clusterPageSize})

	// One process after the other: each provisions the whole topology at
	// start, and concurrent provisioning on a cluster loses answers and
	// waits for timeouts (README.md).
	started := time.Now()
	s.services = map[string]*Service{}
	for _, name := range app.AllServices {
		s.services[name] = startService(t, s.dir, s.config, name)
	}
	t.Logf("timing: five services running in %v", time.Since(started).Round(time.Millisecond))
	s.nc = s.cluster.Connect(t)
	s.events = watchEvents(t, s.nc)

	// One job per step: a step that fails leaves its job's lease behind,
	// and the later steps still say what they have to say.
	t.Run("the first run creates every account", func(t *testing.T) {
		want := s.pending(t)
		mustCLI(t, s.config, "job", "create", "first", "--all-domains")
		start := time.Now()
		sum := runJob(t, s.config, "first")
		t.Logf("timing: first run of %d+%d users took %v", users, users2, time.Since(start).Round(time.Millisecond))
		if c := runCounts(want, s.directories(t)); c.Created != users+users2 {
			t.Fatalf("the first run should create %d accounts, want says %+v", users+users2, c)
		}
		s.assertRun(t, sum, want)
	})
	t.Run("two guards and two directory-readers", s.testScaled)
	t.Run("a run survives the death of the NATS node leading", s.testLeaderKills)
	t.Logf("timing: whole test %v", time.Since(began).Round(time.Millisecond))
}

// directories reads both directories: domain -> entryUUID -> user.
func (s *system) directories(t *testing.T) map[string]map[string]dirUser {
	t.Helper()
	return map[string]map[string]dirUser{"lab": directoryUsers(t, s.openldap), "lab2": directoryUsers(t, s.slapd2)}
}

// pending returns what the next run must do (entryUUID -> op): create an
// account for each directory user without one, update each account whose
// username or email differs from the directory.
func (s *system) pending(t *testing.T) map[string]string {
	t.Helper()
	have := map[string]dirUser{}
	for _, a := range listAccounts(t, s.config) {
		have[a.ExternalID] = dirUser{Username: a.Username, Email: a.Email}
	}
	want := map[string]string{}
	for _, dir := range s.directories(t) {
		for id, u := range dir {
			switch a, ok := have[id]; {
			case !ok:
				want[id] = events.OpCreate
			case a != u:
				want[id] = events.OpUpdate
			}
		}
	}
	return want
}

// assertRun checks a completed run that had to do want (see pending): both
// domains completed, the totals are exact, its report lists each change
// once, applied, the accounts equal the directories, nothing was
// dead-lettered, and ADSYNC_CONTROL holds one sync.completed of the run.
func (s *system) assertRun(t *testing.T, sum cli.RunSummary, want map[string]string) {
	t.Helper()
	dirs := s.directories(t)
	if len(sum.Domains) != len(dirs) {
		t.Errorf("run %s reports %d domains, want %d", sum.RunID, len(sum.Domains), len(dirs))
	}
	for _, d := range sum.Domains {
		if d.Outcome != events.OutcomeCompleted {
			t.Errorf("run %s: domain %s %s", sum.RunID, d.Domain, d.Outcome)
		}
	}
	if got, want := sum.Totals, runCounts(want, dirs); got != want {
		t.Errorf("run %s: totals %+v, want %+v", sum.RunID, got, want)
	}
	assertAppliedOnce(t, runReport(t, s.config, sum.RunID), want)
	assertAccountsEqualDirectories(t, listAccounts(t, s.config), dirs)
	assertNoDeadLetters(t, s.config)
	if n := storedRuns(t, s.nc, evSyncCompleted)[sum.RunID]; n != 1 {
		t.Errorf("ADSYNC_CONTROL holds %d sync.completed of run %s, want 1", n, sum.RunID)
	}
}

// runCounts counts the ops of want as the totals of a run that read the
// directories: every other user is unchanged.
func runCounts(want map[string]string, dirs map[string]map[string]dirUser) events.Counts {
	var c events.Counts
	for _, op := range want {
		c = c.Add(events.CountOp(op))
	}
	for _, dir := range dirs {
		c.Unchanged += len(dir)
	}
	c.Unchanged -= len(want)
	return c
}

// changeEvery gives every step-th user of a slapd preloaded with n users
// (from user first on) a new mail tagged with tag: the changes are spread
// over every page of a read.
func changeEvery(t *testing.T, openldap *slapd.Server, n, first, step int, tag string) {
	t.Helper()
	for i := first; i <= n; i += step {
		changeMails(t, openldap, i, i+1, tag)
	}
}

package clustertest

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/app"
	"github.com/adsync/adsync/internal/cli"
	"github.com/adsync/adsync/internal/testenv"
)

// users is the size of the test directory.
const users = 3000

// system is the deployment under test: a NATS cluster, a slapd, and the
// adsync service processes sharing one configuration file.
type system struct {
	t        *testing.T // the whole test: its processes live until it ends
	cluster  *testenv.Cluster
	slapd    *testenv.SlapdServer
	dir      string
	config   string
	services map[string]*Service
}

// The five services, each its own process, sync 3,000 users through a
// 3-node JetStream cluster with replicas 3; a run survives the death of
// the NATS node leading ADSYNC_PAGES; guard and directory-reader run twice
// and a run gives the same result, also once the first instances are dead.
func TestClusterSync(t *testing.T) {
	needsCluster(t)
	t.Parallel()
	began := time.Now()
	s := &system{t: t, cluster: testenv.NATSCluster(t)}
	t.Cleanup(func() {
		nodes, _ := filepath.Glob(filepath.Join(s.cluster.Dir, "*", "nats.log"))
		keepLogs(t, nodes...)
	})
	t.Logf("timing: NATS cluster up in %v", time.Since(began).Round(time.Millisecond))
	s.slapd = testenv.Slapd(t, testenv.WithUsers(users))
	s.dir = t.TempDir()
	s.config = writeConfig(t, s.dir, s.slapd, configOptions{natsURL: s.cluster.URLs(), dataDir: filepath.Join(s.dir, "data")})

	// One process after the other: each provisions the whole topology at
	// start, and concurrent provisioning on a cluster loses answers and
	// waits for timeouts (README.md).
	started := time.Now()
	s.services = map[string]*Service{}
	for _, name := range app.AllServices {
		s.services[name] = startService(t, s.dir, s.config, name)
	}
	t.Logf("timing: five services running in %v", time.Since(started).Round(time.Millisecond))
	// One job per step: a step that fails leaves its job's lease behind,
	// and the later steps still say what they have to say.
	for _, job := range []string{"first", "scaled", "survivors", "failover", "after"} {
		mustCLI(t, s.config, "job", "create", job, "--all-domains")
	}

	t.Run("the first run creates every account", func(t *testing.T) {
		start := time.Now()
		sum := runJob(t, s.config, "first")
		t.Logf("timing: first run of %d users took %v", users, time.Since(start).Round(time.Millisecond))
		assertTotals(t, sum, users, 0)
		assertAccountsEqualDirectory(t, listAccounts(t, s.config), directoryUsers(t, s.slapd))
	})
	t.Run("a second guard and directory-reader", s.testScaled)
	t.Run("a run survives the death of the node leading ADSYNC_PAGES", s.testLeaderKill)
	t.Logf("timing: whole test %v", time.Since(began).Round(time.Millisecond))
}

// assertTotals checks a run's created and updated counts and that every
// other user is unchanged.
func assertTotals(t *testing.T, sum cli.RunSummary, created, updated int) {
	t.Helper()
	want := events.Counts{Created: created, Updated: updated, Unchanged: users - created - updated}
	if sum.Totals != want {
		t.Fatalf("totals %+v, want %+v", sum.Totals, want)
	}
}

package clustertest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/bus"
)

// testLeaderKill changes 100 users, starts a run and, once its first
// directory page is out, kills (SIGKILL) the NATS node that leads
// ADSYNC_PAGES. The run must complete and the accounts equal the directory.
func (s *system) testLeaderKill(t *testing.T) {
	changeMails(t, s.slapd, 1, 101, "kill")
	nc := s.cluster.Connect(t)
	pages, err := nc.SubscribeSync(events.Subject(events.DirectoryPage{}))
	if err != nil {
		t.Fatal(err)
	}
	failed, err := nc.SubscribeSync(events.Subject(events.DirectoryFailed{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	cliCtx, stopCLI := context.WithCancel(context.Background())
	defer stopCLI()
	result := make(chan Result, 1)
	go func() {
		result <- runCLIContext(cliCtx, s.config, "job", "run", "failover", "--wait", "--json", "--timeout", "90s")
	}()
	if _, err := pages.NextMsg(time.Minute); err != nil {
		t.Fatalf("no directory page published: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	leader := s.cluster.StreamLeader(ctx, bus.StreamPages)
	if leader < 0 {
		t.Fatal("ADSYNC_PAGES has no leader")
	}
	node := s.cluster.Node(leader)
	killedAt := time.Now()
	node.Kill()
	defer func() {
		restarted := time.Now()
		node.Start()
		t.Logf("timing: %s back and healthy in %v", node.Name, time.Since(restarted).Round(time.Millisecond))
	}()
	t.Logf("killed %s (leader of %s) %v after the run started", node.Name, bus.StreamPages, killedAt.Sub(start).Round(time.Millisecond))

	var r Result
	select {
	case r = <-result:
	case f := <-failedRead(failed):
		// The reader gave up on the domain: the run cannot complete.
		stopCLI()
		<-result
		knownBug(t, "the directory-reader lost a page publication to the killed stream leader and failed the read for good "+
			"(attempt %d, pages_read %d, will_retry %t, %v after the kill): %s", f.Attempt, f.PagesRead, f.WillRetry,
			time.Since(killedAt).Round(time.Millisecond), f.Reason)
	}
	sum := parseRun(t, r)
	if r.Err != nil || sum.Outcome != "completed" {
		t.Fatalf("run with a dead NATS node: outcome %s (exit %v), reasons %v\nstderr: %s", sum.Outcome, r.Err, sum.Reasons, r.Stderr)
	}
	t.Logf("timing: run completed %v after the node was killed (%v in all)", time.Since(killedAt).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	assertAccountsEqualDirectory(t, listAccounts(t, s.config), directoryUsers(t, s.slapd))

	want := events.Counts{Updated: 100, Unchanged: users - 100}
	switch got := sum.Totals; {
	case got == want:
	case got.Created == 0 && got.Updated == 100 && got.Deactivated == 0 && got.Reactivated == 0 && got.Unchanged > want.Unchanged:
		knownBugNote(t, "totals %+v count %d entries of %d: updated counts every attempt of the run, unchanged the last attempt only", got,
			got.Updated+got.Unchanged, users)
	default:
		t.Fatalf("totals %+v, want %+v", got, want)
	}
}

// failedRead delivers the first directory.failed that gives up on a
// domain because publishing failed (the read itself went fine).
func failedRead(sub *nats.Subscription) <-chan events.DirectoryFailed {
	out := make(chan events.DirectoryFailed, 1)
	go func() {
		for {
			m, err := sub.NextMsg(2 * time.Minute)
			if err != nil {
				return
			}
			var f events.DirectoryFailed
			if json.Unmarshal(m.Data, &f) == nil && !f.WillRetry && strings.Contains(f.Reason, "publish") {
				out <- f
				return
			}
		}
	}()
	return out
}

package clustertest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/app"
	"github.com/adsync/adsync/internal/bus"
)

// testLeaderKill changes 100 users, starts a run and, once its first
// directory page is out, kills (SIGKILL) the NATS node that leads
// ADSYNC_PAGES. The run must complete and the accounts equal the directory.
func (s *system) testLeaderKill(t *testing.T) {
	changeMails(t, s.slapd, 1, 101, "kill")
	stale := staleAccounts(t, listAccounts(t, s.config), directoryUsers(t, s.slapd))
	nc := s.cluster.Connect(t)
	pages, err := nc.SubscribeSync(events.Subject(events.DirectoryPage{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	cliCtx, stopCLI := context.WithCancel(context.Background())
	defer stopCLI()
	failures := failedReads(cliCtx, t, s, start)
	result := make(chan Result, 1)
	go func() {
		result <- runCLIContext(cliCtx, s.config, "job", "run", "failover", "--wait", "--json", "--timeout", "2m")
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

	// A healthy pipeline finishes within an election (a few seconds), an
	// ack wait (5s) and a publish timeout (30s) of the kill.
	var r Result
	select {
	case r = <-result:
	case f := <-failures:
		// The reader gave up on the domain: the run cannot complete.
		stopCLI()
		<-result
		t.Fatalf("the directory-reader lost a page publication to the killed stream leader and failed the read for good "+
			"(attempt %d, pages_read %d, will_retry %t, %v after the kill): %s", f.Attempt, f.PagesRead, f.WillRetry,
			time.Since(killedAt).Round(time.Millisecond), f.Reason)
	case <-time.After(75 * time.Second):
		if !readerStuck(s.services[app.DirectoryReader].Log(), "failover") {
			r = <-result
			break
		}
		stopCLI()
		<-result
		t.Fatalf("the directory-reader has been publishing the pages of the run for %v since the kill and never gave up: "+
			"a publication lost with the stream leader is never acknowledged, the handler waits for it forever and keeps "+
			"its message in progress, so the run never finishes. %s", time.Since(killedAt).Round(time.Second), s.shadowed(t, stale))
	}
	sum := parseRun(t, r)
	if r.Err != nil || sum.Outcome != "completed" {
		t.Fatalf("run with a dead NATS node: outcome %s (exit %v), reasons %v\nstderr: %s", sum.Outcome, r.Err, sum.Reasons, r.Stderr)
	}
	t.Logf("timing: run completed %v after the node was killed (%v in all)", time.Since(killedAt).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	assertAccountsEqualDirectory(t, listAccounts(t, s.config), directoryUsers(t, s.slapd))

	want := events.Counts{Updated: stale, Unchanged: users - stale}
	switch got := sum.Totals; {
	case got == want:
	case got.Created == 0 && got.Updated == stale && got.Deactivated == 0 && got.Reactivated == 0 && got.Unchanged > want.Unchanged:
		t.Errorf("totals %+v count %d entries of %d: updated counts every attempt of the run, unchanged the last attempt only", got,
			got.Updated+got.Unchanged, users)
	default:
		t.Fatalf("totals %+v, want %+v", got, want)
	}
}

// readerStuck reports whether a reader's log shows a read of the job's
// run that started and never ended.
func readerStuck(log, job string) bool {
	started, ended := false, false
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, " job="+job+" ") {
			continue
		}
		started = started || strings.Contains(line, `msg="reading directory"`)
		ended = ended || strings.Contains(line, `msg="directory read"`) || strings.Contains(line, `msg="directory read failed"`)
	}
	return started && !ended
}

// shadowed runs the job "after" while the stuck run holds changes that
// diff has already seen, and says how many stale accounts it left stale.
func (s *system) shadowed(t *testing.T, stale int) string {
	t.Helper()
	sum := runJob(t, s.config, "after")
	left := staleAccounts(t, listAccounts(t, s.config), directoryUsers(t, s.slapd))
	if left == 0 {
		return fmt.Sprintf("A later run updated the %d stale accounts (%+v).", stale, sum.Totals)
	}
	return fmt.Sprintf("Worse, a later run left %d of the %d accounts it should have updated stale (totals %+v): diff had "+
		"recorded the stuck run's view of them, which is neither applied nor undone while the run hangs.", left, stale, sum.Totals)
}

// failedReads delivers the directory.failed events, from since on, that
// give up on a domain because publishing failed (the read itself went
// fine). It reads ADSYNC_CONTROL with an ordered consumer, which survives
// the loss of a node (a core subscription would miss what is published
// while its connection moves to another node).
func failedReads(ctx context.Context, t *testing.T, s *system, since time.Time) <-chan events.DirectoryFailed {
	out := make(chan events.DirectoryFailed, 1)
	js, err := jetstream.New(s.cluster.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		var cons jetstream.Consumer
		for cons == nil && ctx.Err() == nil {
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			cons, _ = js.OrderedConsumer(cctx, bus.StreamControl, jetstream.OrderedConsumerConfig{
				FilterSubjects: []string{events.Subject(events.DirectoryFailed{})},
				DeliverPolicy:  jetstream.DeliverByStartTimePolicy, OptStartTime: &since,
			})
			cancel()
		}
		for ctx.Err() == nil {
			m, err := cons.Next(jetstream.FetchMaxWait(2 * time.Second))
			if err != nil {
				continue
			}
			var f events.DirectoryFailed
			if json.Unmarshal(m.Data(), &f) == nil && !f.WillRetry && strings.Contains(f.Reason, "publish") {
				out <- f
				return
			}
		}
	}()
	return out
}

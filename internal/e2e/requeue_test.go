package e2e

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/adsync/adsync/internal/cli"
	"github.com/adsync/adsync/internal/testenv"
)

// Requeue if the job fails: with the directory down, the run is retried by
// JetStream redelivery with a growing back-off, and completes on a later
// attempt once the directory is back. Without requeue it fails once.
func TestRequeueRetriesUntilTheDirectoryIsBack(t *testing.T) {
	t.Parallel()
	slapd := testenv.Slapd(t, testenv.WithUsers(4))
	sys := Start(t, []Domain{LDAPDomain("lab", slapd)})
	sys.MustCLI("job", "create", "retrying", "--all-domains", "--requeue", "--requeue-attempts", "6", "--requeue-delay", "1s", "--requeue-max-delay", "4s")
	sys.MustCLI("job", "create", "once", "--all-domains")

	slapd.Stop(t)

	t.Run("requeue off: fails once and stays failed", func(t *testing.T) {
		sum, err := sys.RunJob("once")
		if err == nil || sum.Outcome != "failed" || sum.Attempts != 1 {
			t.Fatalf("outcome %s attempts %d err %v", sum.Outcome, sum.Attempts, err)
		}
		h := sys.History("once")
		if len(h) != 1 || len(h[0].Failures) != 1 || h[0].Failures[0].WillRetry {
			t.Fatalf("history of a job without requeue: %+v", h)
		}
	})

	t.Run("requeue on: completes after the directory is back", func(t *testing.T) {
		var out, errb syncBuffer
		done := make(chan error, 1)
		go func() {
			done <- cli.Run(context.Background(), []string{"job", "run", "retrying", "--wait", "--json", "-c", sys.ConfigPath},
				cli.Env{Stdout: &out, Stderr: &errb})
		}()
		// Two failed attempts are visible before the directory returns.
		waitFor(t, "two failed attempts", 30*time.Second, func() bool {
			return strings.Count(errb.String(), "retrying in") >= 2
		})
		slapd.Start(t)
		if err := <-done; err != nil {
			t.Fatalf("requeued run: %v\n%s", err, errb.String())
		}
		var sum cli.RunSummary
		if err := json.Unmarshal([]byte(out.String()), &sum); err != nil {
			t.Fatal(err)
		}
		if sum.Outcome != "completed" || sum.Attempts < 3 || sum.Totals.Created != 4 {
			t.Fatalf("requeued run: %+v", sum)
		}
		h := sys.History("retrying")[0]
		if h.Attempts != sum.Attempts || len(h.Failures) != sum.Attempts-1 {
			t.Fatalf("history: attempts %d failures %+v", h.Attempts, h.Failures)
		}
		var prev time.Time
		for i, f := range h.Failures {
			if f.Attempt != i+1 || !f.WillRetry || !strings.Contains(f.Reason, "connection refused") {
				t.Errorf("failure %d: %+v", i, f)
			}
			if (i == 0) != (f.Trigger == "manual") || (i > 0) != (f.Trigger == "requeue") {
				t.Errorf("failure %d trigger %s", i, f.Trigger)
			}
			if i > 0 && f.At.Sub(prev) < 900*time.Millisecond {
				t.Errorf("attempt %d came %s after the previous one: no back-off", f.Attempt, f.At.Sub(prev))
			}
			prev = f.At
		}
		if h.Failures[0].RetryIn != "1s" || h.Failures[1].RetryIn != "2s" {
			t.Errorf("back-off does not grow: %s, %s", h.Failures[0].RetryIn, h.Failures[1].RetryIn)
		}
	})

	t.Run("requeue on: after the last attempt the run fails with the cause", func(t *testing.T) {
		sys.MustCLI("job", "update", "retrying", "--requeue-attempts", "2")
		slapd.Stop(t)
		sum, err := sys.RunJob("retrying")
		if err == nil || sum.Outcome != "failed" || sum.Attempts != 2 || !strings.Contains(strings.Join(sum.Reasons, ""), "connection refused") {
			t.Fatalf("outcome %s attempts %d reasons %v err %v", sum.Outcome, sum.Attempts, sum.Reasons, err)
		}
		slapd.Start(t)
	})
}

// A run requested while the job's previous run is still going is rejected;
// a run that never finishes stops blocking the job when its lease expires.
func TestOverlappingRunsAreRejectedUntilTheLeaseExpires(t *testing.T) {
	t.Parallel()
	// A directory that accepts connections and never answers.
	hole, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hole.Close()
	go func() {
		for {
			c, err := hole.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	slapd := testenv.Slapd(t)
	stuck := LDAPDomain("stuck", slapd)
	stuck.URL = "ldaps://" + hole.Addr().String()
	sys := Start(t, []Domain{stuck}, WithConfig("guard:\n  run_lease: 1h\n"))
	sys.MustCLI("job", "create", "slow", "--all-domains")

	first := requestRun(t, sys, "slow")
	waitFor(t, "the first run to be reading", 10*time.Second, func() bool {
		return sys.captured.count("adsync.directory.requested.v1") > 0
	})
	sum, err := sys.RunJob("slow")
	if err == nil || sum.Outcome != "rejected" || !strings.Contains(strings.Join(sum.Reasons, ""), "run "+first+" still in progress") {
		t.Fatalf("overlapping run: %+v %v", sum, err)
	}
	// The first run never finishes; once its lease expired, a new run is
	// admitted.
	sys.Clock.Advance(61 * time.Minute)
	second := requestRun(t, sys, "slow")
	waitFor(t, "guard's decision on the second run", 10*time.Second, func() bool {
		return outcomeOf(sys, "slow", second) != "requested"
	})
	if got := outcomeOf(sys, "slow", second); got != "running" {
		t.Fatalf("run after the lease expired: %s", got)
	}
}

// requestRun requests a run without waiting and returns its id.
func requestRun(t *testing.T, sys *System, job string) string {
	t.Helper()
	var req struct {
		RunID string `json:"run_id"`
	}
	if err := json.Unmarshal([]byte(sys.MustCLI("job", "run", job, "--json")), &req); err != nil || req.RunID == "" {
		t.Fatalf("job run --json: %v", err)
	}
	return req.RunID
}

// outcomeOf returns a run's outcome in the job's history ("" if absent).
func outcomeOf(sys *System, job, runID string) string {
	for _, r := range sys.History(job) {
		if r.RunID == runID {
			return r.Outcome
		}
	}
	return ""
}

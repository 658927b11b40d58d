package e2e

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/internal/cli"
	"github.com/adsync/adsync/internal/testenv/slapd"
)

// Requeue if the job fails: with the directory down, the run is retried by
// JetStream redelivery with a growing back-off, each attempt visible in
// `adsync watch` and the job's history, and completes on a later attempt
// once the directory is back. A requeued attempt passes guard's admission
// checks again: single sign-on enabled during the back-off refuses it and
// nothing is read. Without requeue the run fails once and stays failed.
func TestRequeueRetriesUntilTheDirectoryIsBack(t *testing.T) {
	t.Parallel()
	openldap := slapd.Start(t, slapd.WithUsers(4))
	sys := Start(t, []Domain{LDAPDomain("lab", openldap)})
	sys.MustCLI("job", "create", "retrying", "--all-domains", "--requeue", "--requeue-attempts", "6", "--requeue-delay", "1s", "--requeue-max-delay", "4s")
	sys.MustCLI("job", "create", "once", "--all-domains")
	sys.MustCLI("job", "create", "sso-later", "--all-domains", "--requeue", "--requeue-attempts", "4", "--requeue-delay", "3s")
	watch := sys.Watch()

	openldap.Stop(t)

	var onceRun string
	t.Run("requeue off: fails once and stays failed", func(t *testing.T) {
		sum, err := sys.RunJob("once")
		if err == nil || sum.Outcome != "failed" || sum.Attempts != 1 {
			t.Fatalf("outcome %s attempts %d err %v", sum.Outcome, sum.Attempts, err)
		}
		onceRun = sum.RunID
		h := sys.History("once")
		if len(h) != 1 || len(h[0].Failures) != 1 || h[0].Failures[0].WillRetry {
			t.Fatalf("history of a job without requeue: %+v", h)
		}
		waitFor(t, "the failed attempt in adsync watch", 10*time.Second, func() bool {
			return len(watch.lines("directory.failed.v1", "run="+onceRun, "attempt=1 final")) == 1
		})
	})

	t.Run("requeue on: single sign-on enabled during the back-off refuses the next attempt", func(t *testing.T) {
		var out, errb syncBuffer
		done := make(chan error, 1)
		go func() {
			done <- cli.Run(context.Background(), []string{"job", "run", "sso-later", "--wait", "--json", "-c", sys.ConfigPath},
				cli.Env{Stdout: &out, Stderr: &errb})
		}()
		waitFor(t, "the first failed attempt", 30*time.Second, func() bool { return strings.Contains(errb.String(), "retrying in") })
		if msg := sys.MustCLI("sso", "enable", "oidc", "--force"); !strings.Contains(msg, "disabled AD Sync Job sso-later") {
			t.Fatalf("sso enable --force: %s", msg)
		}
		// The directory is back: only the admission checks can stop the
		// next attempt from reading it.
		openldap.Start(t)
		if err := <-done; err == nil {
			t.Fatalf("a run continued after single sign-on was enabled:\n%s", out.String())
		}
		var sum cli.RunSummary
		if err := json.Unmarshal([]byte(out.String()), &sum); err != nil {
			t.Fatalf("%v: %s", err, out.String())
		}
		reasons := strings.Join(sum.Reasons, "\n")
		if sum.Outcome != "failed" || sum.Attempts < 2 || !strings.Contains(reasons, "refused, nothing read") ||
			!strings.Contains(reasons, "OpenID Connect single sign-on is enabled") || !strings.Contains(reasons, `job "sso-later" is disabled`) {
			t.Fatalf("run refused during its back-off: outcome %s attempts %d reasons:\n%s", sum.Outcome, sum.Attempts, reasons)
		}
		if n := len(sys.Accounts("")); n != 0 {
			t.Fatalf("%d accounts written by a refused attempt", n)
		}
		if n := sys.captured.count("adsync.directory.page.v1"); n != 0 {
			t.Fatalf("%d pages read by a refused attempt", n)
		}
		h := sys.History("sso-later")[0]
		last := h.Failures[len(h.Failures)-1]
		if h.Outcome != "failed" || last.Attempt != sum.Attempts || last.WillRetry || last.Trigger != "requeue" ||
			!strings.Contains(last.Reason, "OpenID Connect single sign-on is enabled") {
			t.Fatalf("history of the refused run: %+v", h)
		}
		refused := fmt.Sprintf(`attempt=%d final reason="attempt %d refused, nothing read: OpenID Connect single sign-on is enabled`, sum.Attempts, sum.Attempts)
		waitFor(t, "the refused attempt in adsync watch", 10*time.Second, func() bool {
			return len(watch.lines("directory.failed.v1", "run="+sum.RunID, refused)) == 1
		})

		sys.MustCLI("sso", "disable", "oidc")
		for _, j := range []string{"retrying", "once", "sso-later"} {
			sys.MustCLI("job", "enable", j)
		}
		openldap.Stop(t)
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
		openldap.Start(t)
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
		for a := 1; a < sum.Attempts; a++ {
			if len(watch.lines("directory.failed.v1", "run="+sum.RunID, fmt.Sprintf("attempt=%d retry in", a))) != 1 {
				t.Errorf("adsync watch does not show failed attempt %d:\n%s", a, watch.String())
			}
		}
		waitFor(t, "the completed attempt in adsync watch", 10*time.Second, func() bool {
			return len(watch.lines("directory.completed.v1", "run="+sum.RunID, fmt.Sprintf("attempt=%d ", sum.Attempts))) == 1
		})
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
		openldap.Stop(t)
		sum, err := sys.RunJob("retrying")
		if err == nil || sum.Outcome != "failed" || sum.Attempts != 2 || !strings.Contains(strings.Join(sum.Reasons, ""), "connection refused") {
			t.Fatalf("outcome %s attempts %d reasons %v err %v", sum.Outcome, sum.Attempts, sum.Reasons, err)
		}
		openldap.Start(t)
	})

	t.Run("requeue off: the failed run stayed failed", func(t *testing.T) {
		for _, r := range sys.History("once") {
			if r.RunID == onceRun && (r.Outcome != "failed" || r.Attempts != 1 || len(r.Failures) != 1) {
				t.Fatalf("run %s later: outcome %s attempts %d failures %+v", onceRun, r.Outcome, r.Attempts, r.Failures)
			}
		}
		if n := len(watch.lines("run="+onceRun, "directory.failed.v1")); n != 1 {
			t.Fatalf("adsync watch shows %d attempts of the run without requeue:\n%s", n, watch.String())
		}
	})
}

// watchLog is an `adsync watch` running alongside a test.
type watchLog struct{ out syncBuffer }

// Watch runs `adsync watch` until the test ends.
func (s *System) Watch() *watchLog {
	s.t.Helper()
	w := &watchLog{}
	var errb syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- cli.Run(ctx, []string{"watch", "-c", s.ConfigPath}, cli.Env{Stdout: &w.out, Stderr: &errb, Now: s.clockNow()})
	}()
	waitFor(s.t, "adsync watch to start", 30*time.Second, func() bool { return strings.Contains(errb.String(), "watching adsync events") })
	s.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			s.t.Errorf("adsync watch: %v", err)
		}
	})
	return w
}

// lines returns the watched lines that contain every part.
func (w *watchLog) lines(parts ...string) []string {
	var out []string
	for _, l := range strings.Split(w.out.String(), "\n") {
		ok := l != ""
		for _, p := range parts {
			ok = ok && strings.Contains(l, p)
		}
		if ok {
			out = append(out, l)
		}
	}
	return out
}

func (w *watchLog) String() string { return w.out.String() }

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
	openldap := slapd.Start(t)
	stuck := LDAPDomain("stuck", openldap)
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

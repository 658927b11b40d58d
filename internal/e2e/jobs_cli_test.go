package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/adsync/adsync/internal/cli"
	"github.com/adsync/adsync/internal/testenv"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The job commands an administrator uses, and the live feed of `watch`.
func TestJobCommandsHistoryAndWatch(t *testing.T) {
	t.Parallel()
	slapd := testenv.Slapd(t, testenv.WithUsers(5))
	sys := Start(t, []Domain{LDAPDomain("lab", slapd)})

	// watch, started before anything happens
	var feed syncBuffer
	wctx, stopWatch := context.WithCancel(context.Background())
	watchDone := make(chan error, 1)
	go func() {
		watchDone <- cli.Run(wctx, []string{"watch", "-c", sys.ConfigPath}, cli.Env{Stdout: &feed, Stderr: &feed})
	}()
	waitFor(t, "watch to subscribe", 10*time.Second, func() bool { return strings.Contains(feed.String(), "watching") })

	bad := sys.CLI("job", "create", "x", "--domain", "nope")
	if bad.Err == nil || !strings.Contains(bad.Err.Error(), `--domain "nope" is not configured`) {
		t.Fatalf("job with an unknown domain: %v", bad.Err)
	}
	bad = sys.CLI("job", "create", "x")
	if bad.Err == nil || !strings.Contains(bad.Err.Error(), "--all-domains or --domain") {
		t.Fatalf("job without domains: %v", bad.Err)
	}
	out := sys.MustCLI("job", "create", "lab-sync", "--all-domains", "--every", "12h", "--run-when", "scheduled", "--requeue")
	if !strings.Contains(out, "next run:") {
		t.Fatalf("create does not show the next run: %s", out)
	}
	if r := sys.CLI("job", "create", "lab-sync", "--all-domains"); r.Err == nil || !strings.Contains(r.Err.Error(), "exists") {
		t.Fatalf("duplicate job: %v", r.Err)
	}

	var jobs []map[string]any
	if err := json.Unmarshal([]byte(sys.MustCLI("job", "list", "--json")), &jobs); err != nil || len(jobs) != 1 {
		t.Fatalf("job list --json: %v %v", err, jobs)
	}
	next, _ := time.Parse(time.RFC3339, jobs[0]["next_run"].(string))
	if d := time.Until(next); d < 11*time.Hour || d > 12*time.Hour+time.Minute {
		t.Fatalf("scheduled 12h job: next run in %s", d)
	}
	if jobs[0]["requeue"].(map[string]any)["enabled"] != true || jobs[0]["all_domains"] != true {
		t.Fatalf("job list --json: %v", jobs[0])
	}

	first := sys.MustComplete("lab-sync")
	sys.MustCLI("job", "disable", "lab-sync")
	rej, err := sys.RunJob("lab-sync")
	if err == nil || rej.Outcome != "rejected" || !strings.Contains(strings.Join(rej.Reasons, ";"), "is disabled") {
		t.Fatalf("disabled job ran: %+v %v", rej, err)
	}
	sys.MustCLI("job", "enable", "lab-sync")
	second := sys.MustComplete("lab-sync")

	var hist []cli.RunSummary
	if err := json.Unmarshal([]byte(sys.MustCLI("job", "history", "lab-sync", "--json")), &hist); err != nil {
		t.Fatal(err)
	}
	if len(hist) != 3 || hist[0].RunID != second.RunID || hist[1].RunID != rej.RunID || hist[2].RunID != first.RunID {
		t.Fatalf("history (newest first) %+v", hist)
	}
	if hist[2].Totals.Created != 5 || hist[0].Totals.Unchanged != 5 || hist[1].Outcome != "rejected" || hist[2].Trigger != "manual" || hist[2].Attempts != 1 {
		t.Fatalf("history entries: %+v", hist)
	}
	text := sys.MustCLI("job", "history", "lab-sync")
	if !strings.Contains(text, first.RunID) || !strings.Contains(text, "is disabled") {
		t.Fatalf("job history text:\n%s", text)
	}

	waitFor(t, "the second run's completion in the watch feed", 10*time.Second, func() bool {
		return strings.Contains(feed.String(), "sync.completed.v1") && strings.Contains(feed.String(), second.RunID)
	})
	stopWatch()
	<-watchDone
	for _, w := range []string{"sync.requested.v1", "sync.approved.v1", "directory.page.v1", "sync.rejected.v1", "is disabled", "unchanged 5"} {
		if !strings.Contains(feed.String(), w) {
			t.Errorf("watch feed lacks %q", w)
		}
	}

	sys.MustCLI("job", "delete", "lab-sync")
	if r := sys.CLI("job", "show", "lab-sync"); r.Err == nil || !strings.Contains(r.Err.Error(), "no such job") {
		t.Fatalf("show after delete: %v", r.Err)
	}
	if n := len(sys.Accounts("lab")); n != 5 {
		t.Fatalf("deleting the job touched the accounts: %d left", n)
	}
}

// Job history is bounded by nats.history: older runs are dropped.
func TestHistoryIsBoundedByItsRetention(t *testing.T) {
	t.Parallel()
	slapd := testenv.Slapd(t, testenv.WithUsers(1))
	sys := Start(t, []Domain{LDAPDomain("lab", slapd)}, WithNATS("  history: 3s\n"))
	sys.MustCLI("job", "create", "lab-sync", "--all-domains")
	sys.MustComplete("lab-sync")
	if n := len(sys.History("lab-sync")); n != 1 {
		t.Fatalf("history has %d runs right after one run", n)
	}
	waitFor(t, "the run to leave the history", 20*time.Second, func() bool { return len(sys.History("lab-sync")) == 0 })
	if n := len(sys.Accounts("lab")); n != 1 {
		t.Fatalf("retention touched the accounts: %d", n)
	}
}

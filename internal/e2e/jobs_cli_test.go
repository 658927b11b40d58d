package e2e

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/internal/cli"
	"github.com/adsync/adsync/internal/testenv/slapd"
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
	openldap := slapd.Start(t, slapd.WithUsers(5))
	sys := Start(t, []Domain{LDAPDomain("lab", openldap)})

	// watch, started before anything happens
	var feed syncBuffer
	wctx, stopWatch := context.WithCancel(context.Background())
	watchDone := make(chan error, 1)
	go func() {
		watchDone <- cli.Run(wctx, []string{"watch", "-c", sys.ConfigPath}, cli.Env{Stdout: &feed, Stderr: &feed})
	}()
	waitFor(t, "watch to subscribe", 10*time.Second, func() bool { return strings.Contains(feed.String(), "watching") })

	bad := sys.CLI("job", "create", "x", "--domain", "nope")
	if bad.Err == nil || !strings.Contains(bad.Err.Error(), `domain "nope" is not configured`) {
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
	openldap := slapd.Start(t, slapd.WithUsers(1))
	sys := Start(t, []Domain{LDAPDomain("lab", openldap)}, WithNATS("  history: 3s\n"))
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

// A time span schedule with --run-when scheduled --start TIME runs first at
// TIME, and `job show` says so; --start and --run-when are refused with
// --cron, and a cron expression's CRON_TZ= prefix sets its zone.
func TestJobShowPrintsTheNextRunOfASchedule(t *testing.T) {
	t.Parallel()
	openldap := slapd.Start(t, slapd.WithUsers(1))
	sys := Start(t, []Domain{LDAPDomain("lab", openldap)})
	now := sys.Clock.Now().UTC().Truncate(time.Second)
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	nextTokyo2AM := time.Date(now.In(tokyo).Year(), now.In(tokyo).Month(), now.In(tokyo).Day(), 2, 0, 0, 0, tokyo)
	if !nextTokyo2AM.After(now) {
		nextTokyo2AM = nextTokyo2AM.AddDate(0, 0, 1)
	}
	later := now.Add(3 * time.Hour)
	earlier := now.Add(-90 * time.Minute)

	cases := []struct {
		name     string
		args     []string
		next     time.Time
		schedule string
	}{
		{"start in 3 hours", []string{"--every", "1h", "--run-when", "scheduled", "--start", later.Format(time.RFC3339)}, later, "every 1h"},
		{"start 90 minutes ago: the next slot after creation", []string{"--every", "1h", "--run-when", "scheduled", "--start", earlier.Format(time.RFC3339)},
			earlier.Add(2 * time.Hour), "every 1h"},
		{"cron with a CRON_TZ prefix", []string{"--cron", "CRON_TZ=Asia/Tokyo 0 2 * * *"}, nextTokyo2AM.UTC(), "Asia/Tokyo"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			name := fmt.Sprintf("sched-%d", i)
			sys.MustCLI(append([]string{"job", "create", name, "--all-domains"}, c.args...)...)
			show := sys.MustCLI("job", "show", name)
			want := c.next.UTC().Format(time.RFC3339)
			if !strings.Contains(show, "next run:") || !strings.Contains(show, want) || !strings.Contains(show, c.schedule) {
				t.Fatalf("job show does not print the next run %s (%s):\n%s", want, c.schedule, show)
			}
			var v map[string]any
			if err := json.Unmarshal([]byte(sys.MustCLI("job", "show", name, "--json")), &v); err != nil || v["next_run"] != want {
				t.Fatalf("job show --json: next_run %v, want %s (%v)", v["next_run"], want, err)
			}
		})
	}

	refused := []struct {
		name string
		args []string
		want string
	}{
		{"cron with --start", []string{"--cron", "0 2 * * *", "--start", later.Format(time.RFC3339)}, "--run-when and --start apply to --every schedules only"},
		{"cron with --run-when", []string{"--cron", "0 2 * * *", "--run-when", "scheduled"}, "--run-when and --start apply to --every schedules only"},
		{"CRON_TZ prefix and --time-zone", []string{"--cron", "CRON_TZ=Asia/Tokyo 0 2 * * *", "--time-zone", "Europe/Berlin"}, "names its own time zone (Asia/Tokyo)"},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			r := sys.CLI(append([]string{"job", "create", "refused", "--all-domains"}, c.args...)...)
			if r.Err == nil || !strings.Contains(r.Err.Error(), c.want) {
				t.Fatalf("job create %v: %v, want it refused saying %q", c.args, r.Err, c.want)
			}
		})
	}
	if r := sys.CLI("job", "show", "refused"); r.Err == nil {
		t.Fatal("a refused job was stored")
	}
}

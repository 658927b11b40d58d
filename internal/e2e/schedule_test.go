package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/internal/cli"
	"github.com/adsync/adsync/internal/testenv/slapd"
)

// scheduledRuns returns the job's scheduled runs, oldest first.
func scheduledRuns(sys *System, job string) []cli.RunSummary {
	var out []cli.RunSummary
	h := sys.History(job)
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].Trigger == "schedule" {
			out = append(out, h[i])
		}
	}
	return out
}

// waitRuns waits until the job has n finished scheduled runs.
func waitRuns(t *testing.T, sys *System, job string, n int) []cli.RunSummary {
	t.Helper()
	var runs []cli.RunSummary
	waitFor(t, job+" to have its scheduled runs", 30*time.Second, func() bool {
		runs = scheduledRuns(sys, job)
		done := 0
		for _, r := range runs {
			if r.FinishedAt != nil {
				done++
			}
		}
		return done >= n
	})
	return runs
}

// stillRuns checks, for a while, that no further scheduled run appears.
func stillRuns(t *testing.T, sys *System, job string, n int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second) // three tick intervals
	for time.Now().Before(deadline) {
		if got := len(scheduledRuns(sys, job)); got != n {
			t.Fatalf("%s has %d scheduled runs, want %d", job, got, n)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Time span schedules with two tick replicas: one run per slot; a changed,
// disabled or deleted job takes effect without a restart.
func TestSchedulesWithTwoTicksStartOneRunPerSlot(t *testing.T) {
	t.Parallel()
	openldap := slapd.Start(t, slapd.WithUsers(3))
	sys := Start(t, []Domain{LDAPDomain("lab", openldap)})
	sys.Serve("tick") // a second tick replica beside the one in `adsync run`

	sys.MustCLI("job", "create", "every12", "--all-domains", "--every", "12h", "--run-when", "immediately")
	runs := waitRuns(t, sys, "every12", 1)
	if runs[0].Outcome != "completed" || runs[0].Totals.Created != 3 {
		t.Fatalf("first scheduled run: %+v", runs[0])
	}

	for slot := 2; slot <= 3; slot++ {
		sys.Clock.Advance(12 * time.Hour)
		runs = waitRuns(t, sys, "every12", slot)
		stillRuns(t, sys, "every12", slot)
	}
	for i, r := range runs {
		if r.Outcome != "completed" {
			t.Errorf("scheduled run %d: %s %v", i+1, r.Outcome, r.Reasons)
		}
	}
	if !strings.HasSuffix(runs[1].RunID, runs[1].RequestedAt.UTC().Format("20060102T150405Z")) {
		t.Errorf("scheduled run id %s does not name its slot %s", runs[1].RunID, runs[1].RequestedAt)
	}
	if got := runs[1].RequestedAt.Sub(runs[0].RequestedAt); got != 12*time.Hour {
		t.Errorf("slots %s apart, want 12h", got)
	}

	// Changed: a 24h span first due one span from now. The old 12h slot
	// passes without a run.
	sys.MustCLI("job", "update", "every12", "--every", "24h", "--run-when", "scheduled")
	sys.Clock.Advance(12 * time.Hour)
	stillRuns(t, sys, "every12", 3)
	sys.Clock.Advance(12 * time.Hour)
	waitRuns(t, sys, "every12", 4)

	// Disabled: no run; deleted: no run.
	sys.MustCLI("job", "disable", "every12")
	sys.Clock.Advance(24 * time.Hour)
	stillRuns(t, sys, "every12", 4)
	sys.MustCLI("job", "create", "doomed", "--all-domains", "--every", "1h", "--run-when", "scheduled")
	sys.MustCLI("job", "delete", "doomed")
	sys.Clock.Advance(2 * time.Hour)
	stillRuns(t, sys, "doomed", 0)
}

// Calendar schedules in a time zone, and the next run `job show` prints.
func TestCronScheduleInATimeZone(t *testing.T) {
	t.Parallel()
	openldap := slapd.Start(t, slapd.WithUsers(1))
	sys := Start(t, []Domain{LDAPDomain("lab", openldap)})
	sys.MustCLI("job", "create", "nightly", "--all-domains", "--cron", "30 2 * * *", "--time-zone", "America/New_York")
	var show map[string]any
	if err := json.Unmarshal([]byte(sys.MustCLI("job", "show", "nightly", "--json")), &show); err != nil {
		t.Fatal(err)
	}
	next, err := time.Parse(time.RFC3339, show["next_run"].(string))
	if err != nil {
		t.Fatal(err)
	}
	ny, _ := time.LoadLocation("America/New_York")
	local := next.In(ny)
	if local.Hour() != 2 || local.Minute() != 30 || next.Before(sys.Clock.Now()) || next.Sub(sys.Clock.Now()) > 25*time.Hour {
		t.Fatalf("next run %s (%s in New York)", next, local)
	}
	if text := sys.MustCLI("job", "show", "nightly"); !strings.Contains(text, "next run:") || !strings.Contains(text, next.UTC().Format(time.RFC3339)) {
		t.Fatalf("job show:\n%s", text)
	}
	stillRuns(t, sys, "nightly", 0) // not at creation
	sys.Clock.Advance(next.Sub(sys.Clock.Now()) + time.Second)
	runs := waitRuns(t, sys, "nightly", 1)
	if !runs[0].RequestedAt.Equal(next) {
		t.Fatalf("ran for slot %s, want %s", runs[0].RequestedAt, next)
	}
}

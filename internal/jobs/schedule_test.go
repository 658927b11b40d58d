package jobs

import (
	"strings"
	"testing"
	"time"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestScheduleDue(t *testing.T) {
	created := at("2026-11-25T10:00:00Z")
	every12 := Schedule{Every: Duration(12 * time.Hour), RunWhen: RunImmediately}
	every12.SetAnchor(created)
	scheduled := Schedule{Every: Duration(12 * time.Hour), RunWhen: RunScheduled}
	scheduled.SetAnchor(created)
	start := at("2026-11-26T02:00:00Z")
	startAt := Schedule{Every: Duration(24 * time.Hour), RunWhen: RunScheduled, Start: &start}
	startAt.SetAnchor(created)
	nightly := Schedule{Cron: "0 2 * * *", TimeZone: "Europe/Berlin"}

	cases := []struct {
		name      string
		s         Schedule
		lastFired time.Time
		now       time.Time
		want      string // "" = not due
	}{
		{"immediately: due at creation", every12, time.Time{}, created.Add(500 * time.Millisecond), "2026-11-25T10:00:00Z"},
		{"immediately: not again before the span", every12, created, created.Add(11 * time.Hour), ""},
		{"immediately: next span", every12, created, created.Add(12*time.Hour + time.Second), "2026-11-25T22:00:00Z"},
		{"down for a day: only the latest slot", every12, created, created.Add(49 * time.Hour), "2026-11-27T10:00:00Z"},
		{"scheduled: not at creation", scheduled, time.Time{}, created.Add(time.Minute), ""},
		{"scheduled: one span later", scheduled, time.Time{}, created.Add(12 * time.Hour), "2026-11-25T22:00:00Z"},
		{"start time: not before", startAt, time.Time{}, at("2026-11-26T01:59:59Z"), ""},
		{"start time: at start", startAt, time.Time{}, at("2026-11-26T02:00:00Z"), "2026-11-26T02:00:00Z"},
		{"cron: not at creation", nightly, time.Time{}, created, ""},
		{"cron in Berlin: 02:00 CET is 01:00 UTC", nightly, time.Time{}, at("2026-11-26T01:00:30Z"), "2026-11-26T01:00:00Z"},
		{"cron: fired already", nightly, at("2026-11-26T01:00:00Z"), at("2026-11-26T05:00:00Z"), ""},
		{"manual only", Schedule{}, time.Time{}, created.Add(time.Hour), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// since carries sub-second precision; slots do not.
			got, ok := c.s.Due(created.Add(400*time.Millisecond), c.lastFired, c.now)
			if c.want == "" {
				if ok {
					t.Fatalf("due at %s, want not due", got)
				}
				return
			}
			if !ok || !got.Equal(at(c.want)) {
				t.Fatalf("Due = %s %v, want %s", got, ok, c.want)
			}
		})
	}
}

func TestScheduleValidate(t *testing.T) {
	start := at("2026-12-01T02:00:00Z")
	cases := []struct {
		name string
		s    Schedule
		ok   bool
		want string // part of the message when refused
	}{
		{"cron with --start", Schedule{Cron: "0 2 * * *", RunWhen: RunScheduled, Start: &start}, false, "--run-when and --start apply to --every schedules only"},
		{"cron with --run-when", Schedule{Cron: "0 2 * * *", RunWhen: RunImmediately}, false, "a --cron schedule runs at its calendar's slots"},
		{"start without a schedule", Schedule{Start: &start}, false, "--run-when and --start need --every"},
		{"span with --start", Schedule{Every: Duration(time.Hour), RunWhen: RunScheduled, Start: &start}, true, ""},
		{"CRON_TZ prefix", Schedule{Cron: "CRON_TZ=Asia/Tokyo 0 2 * * *"}, true, ""},
		{"TZ prefix", Schedule{Cron: "TZ=Europe/Berlin 0 2 * * *"}, true, ""},
		{"CRON_TZ prefix and --time-zone", Schedule{Cron: "CRON_TZ=Asia/Tokyo 0 2 * * *", TimeZone: "Europe/Berlin"}, false, "names its own time zone (Asia/Tokyo) and --time-zone \"Europe/Berlin\""},
		{"TZ prefix and the same --time-zone", Schedule{Cron: "TZ=UTC 0 2 * * *", TimeZone: "UTC"}, false, "give the zone once"},
		{"bad CRON_TZ zone", Schedule{Cron: "CRON_TZ=Mars/Olympus 0 2 * * *"}, false, "Mars/Olympus"},
		{"span", Schedule{Every: Duration(time.Hour), RunWhen: RunImmediately}, true, ""},
		{"cron", Schedule{Cron: "0 2 * * *", TimeZone: "UTC"}, true, ""},
		{"both", Schedule{Every: Duration(time.Hour), RunWhen: RunImmediately, Cron: "* * * * *"}, false, ""},
		{"too short", Schedule{Every: Duration(time.Second), RunWhen: RunImmediately}, false, ""},
		{"bad run-when", Schedule{Every: Duration(time.Hour), RunWhen: "sometimes"}, false, ""},
		{"bad cron", Schedule{Cron: "every day"}, false, ""},
		{"bad zone", Schedule{Cron: "0 2 * * *", TimeZone: "Mars/Olympus"}, false, ""},
		{"none", Schedule{}, true, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.s.Validate()
			if (err == nil) != c.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, c.ok)
			}
			if err != nil && !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Validate() = %q, want it to say %q", err, c.want)
			}
		})
	}
}

func TestRequeueBackoffGrowsToMax(t *testing.T) {
	r := Requeue{Enabled: true, MaxAttempts: 6, InitialDelay: Duration(10 * time.Second), MaxDelay: Duration(30 * time.Second)}
	want := []time.Duration{10 * time.Second, 20 * time.Second, 30 * time.Second, 30 * time.Second}
	for i, w := range want {
		if got := r.Delay(i + 1); got != w {
			t.Errorf("Backoff(%d) = %s, want %s", i+1, got, w)
		}
	}
}

// A CRON_TZ= or TZ= prefix sets the zone of a cron schedule; it is not
// overwritten by the default zone (UTC).
func TestCronZone(t *testing.T) {
	after := at("2026-11-25T12:00:00Z")
	cases := []struct {
		name string
		s    Schedule
		zone string
		next string
	}{
		{"default UTC", Schedule{Cron: "0 2 * * *"}, "UTC", "2026-11-26T02:00:00Z"},
		{"--time-zone", Schedule{Cron: "0 2 * * *", TimeZone: "Asia/Tokyo"}, "Asia/Tokyo", "2026-11-25T17:00:00Z"},
		{"CRON_TZ prefix", Schedule{Cron: "CRON_TZ=Asia/Tokyo 0 2 * * *"}, "Asia/Tokyo", "2026-11-25T17:00:00Z"},
		{"TZ prefix", Schedule{Cron: "TZ=Europe/Berlin 0 2 * * *"}, "Europe/Berlin", "2026-11-26T01:00:00Z"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if z := c.s.Zone(); z != c.zone {
				t.Errorf("Zone() = %s, want %s", z, c.zone)
			}
			got, ok := c.s.Next(after)
			if !ok || !got.Equal(at(c.next)) {
				t.Fatalf("Next = %s %v, want %s", got, ok, c.next)
			}
		})
	}
}

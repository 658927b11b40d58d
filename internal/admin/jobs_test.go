package admin

import (
	"context"
	"testing"
	"time"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/internal/infra/bus/bustest"
	"github.com/adsync/adsync/internal/jobs"
	"github.com/adsync/adsync/internal/settings"
)

// However a caller changes a job (flags, a JSON merge patch, the console's
// form, which rebuilds the schedule without its anchor), a changed
// schedule starts again from now, an unchanged one keeps its first slot,
// and a job enabled again starts no slot it missed.
func TestUpdateJobAnchorsSchedulesOnce(t *testing.T) {
	b := bustest.Start(t, bus.TopologyOptions{})
	ctx := context.Background()
	jobsKV, _ := b.KV(ctx, bus.BucketJobs)
	settingsKV, _ := b.KV(ctx, bus.BucketSettings)
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	o := &Ops{Jobs: &jobs.Store{KV: jobsKV}, Settings: &settings.Store{KV: settingsKV}, Pub: b, JS: b.JS, NC: b.NC,
		Domains: []string{"corp"}, MaxRequeueAttempts: 50, Now: func() time.Time { return now }}
	actor := events.Actor{Kind: events.ActorCLI, Name: "test"}
	j := &jobs.Job{Name: "nightly", Enabled: true, AllDomains: true,
		Schedule: jobs.Schedule{Every: jobs.Duration(12 * time.Hour), RunWhen: jobs.RunScheduled}}
	if err := o.CreateJob(ctx, actor, j); err != nil {
		t.Fatal(err)
	}
	first := now.Add(12 * time.Hour)
	if j.Schedule.Anchor == nil || !j.Schedule.Anchor.Equal(first) || !j.ScheduleSince.Equal(now) {
		t.Fatalf("created: anchor %v since %v", j.Schedule.Anchor, j.ScheduleSince)
	}
	steps := []struct {
		name          string
		later         time.Duration
		fn            func(*jobs.Job)
		anchor, since time.Time
	}{
		{"another setting", time.Hour, func(j *jobs.Job) { j.Mode = events.ModeFull }, first, now},
		{"the same schedule, rebuilt without its anchor", 2 * time.Hour,
			func(j *jobs.Job) {
				j.Schedule = jobs.Schedule{Every: jobs.Duration(12 * time.Hour), RunWhen: jobs.RunScheduled}
			}, first, now},
		{"a new span", 3 * time.Hour, func(j *jobs.Job) { j.Schedule.Every = jobs.Duration(24 * time.Hour) },
			now.Add(3*time.Hour + 24*time.Hour), now.Add(3 * time.Hour)},
		{"disabled", 4 * time.Hour, func(j *jobs.Job) { j.Enabled = false }, now.Add(27 * time.Hour), now.Add(3 * time.Hour)},
		{"enabled again", 5 * time.Hour, func(j *jobs.Job) { j.Enabled = true }, now.Add(27 * time.Hour), now.Add(5 * time.Hour)},
	}
	start := now
	for _, st := range steps {
		now = start.Add(st.later)
		got, err := o.UpdateJob(ctx, actor, "nightly", func(j *jobs.Job) error { st.fn(j); return nil })
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got.Schedule.Anchor == nil || !got.Schedule.Anchor.Equal(st.anchor) || !got.ScheduleSince.Equal(st.since) {
			t.Errorf("%s: anchor %v since %v, want %v and %v", st.name, got.Schedule.Anchor, got.ScheduleSince, st.anchor, st.since)
		}
	}
}

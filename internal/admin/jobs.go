package admin

import (
	"context"
	"fmt"
	"time"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/jobs"
)

// CreateJob stores a new job (its name and settings filled in by the
// caller) after checking it; the job belongs to this environment, and its
// schedule starts now.
func (o *Ops) CreateJob(ctx context.Context, actor events.Actor, j *jobs.Job) error {
	now := o.Clock()
	if j.Schedule.Anchor == nil {
		j.Schedule.SetAnchor(now)
	}
	if j.CreatedAt.IsZero() {
		j.CreatedAt = now
	}
	if j.ScheduleSince.IsZero() {
		j.ScheduleSince = now
	}
	if j.UpdatedAt.IsZero() {
		j.UpdatedAt = now
	}
	if err := j.Validate(o.MaxRequeueAttempts); err != nil {
		return &Error{Kind: Invalid, Err: err}
	}
	if err := o.checkDomains(j); err != nil {
		return err
	}
	env, err := o.Settings.Environment(ctx)
	if err != nil {
		return err
	}
	j.Environment = env
	if err := o.Jobs.Create(ctx, j); err != nil {
		return err
	}
	return o.record(ctx, actor, "job.create", j.Name, nil, j, "")
}

// UpdateJob changes a job with fn and checks the result. A schedule that
// fn changed starts again from now (its first slot anchored anew, unless
// fn anchored it); an unchanged one keeps its anchor; a job enabled again
// starts no slot missed while it was disabled.
func (o *Ops) UpdateJob(ctx context.Context, actor events.Actor, name string, fn func(*jobs.Job) error) (*jobs.Job, error) {
	var before *jobs.Job
	after, err := o.Jobs.Update(ctx, name, func(j *jobs.Job) error {
		cp := *j
		before = &cp
		if err := fn(j); err != nil {
			return err
		}
		now := o.Clock()
		switch {
		case j.Schedule.SameAs(before.Schedule):
			if j.Schedule.Anchor == nil {
				j.Schedule.Anchor = before.Schedule.Anchor
			}
		case j.Schedule.Anchor == nil || before.Schedule.Anchor != nil && j.Schedule.Anchor.Equal(*before.Schedule.Anchor):
			j.Schedule.SetAnchor(now)
			j.ScheduleSince = now
		}
		if j.Enabled && !before.Enabled {
			j.ScheduleSince = now
		}
		j.UpdatedAt = now
		if err := j.Validate(o.MaxRequeueAttempts); err != nil {
			return &Error{Kind: Invalid, Err: err}
		}
		return o.checkDomains(j)
	})
	if err != nil {
		return nil, err
	}
	return after, o.record(ctx, actor, "job.update", name, before, after, "")
}

// SetJobEnabled enables or disables a job. Slots missed while it was
// disabled are not started on enable.
func (o *Ops) SetJobEnabled(ctx context.Context, actor events.Actor, name string, enabled bool) (*jobs.Job, error) {
	var before *jobs.Job
	now := o.Clock()
	after, err := o.Jobs.Update(ctx, name, func(j *jobs.Job) error {
		cp := *j
		before = &cp
		if enabled && !j.Enabled {
			j.ScheduleSince = now
		}
		j.Enabled, j.UpdatedAt = enabled, now
		return nil
	})
	if err != nil {
		return nil, err
	}
	action := "job.disable"
	if enabled {
		action = "job.enable"
	}
	return after, o.record(ctx, actor, action, name, before, after, "")
}

// DeleteJob deletes a job; its accounts and history stay.
func (o *Ops) DeleteJob(ctx context.Context, actor events.Actor, name string) error {
	before, _, err := o.Jobs.Get(ctx, name)
	if err != nil {
		return err
	}
	if err := o.Jobs.Delete(ctx, name); err != nil {
		return err
	}
	return o.record(ctx, actor, "job.delete", name, before, nil, "")
}

// RunJob requests a run of a job now. guard decides whether it may start
// (and rejects it, in the job's history, while another run is in
// progress); callers that answer at once check CheckNoRun first.
func (o *Ops) RunJob(ctx context.Context, actor events.Actor, name string, mode events.Mode, dryRun bool) (*events.SyncRequested, error) {
	switch mode {
	case "", events.ModeAuto, events.ModeFull, events.ModeDelta:
	default:
		return nil, Fail(Invalid, "mode %q: use auto, full or delta", mode)
	}
	if _, _, err := o.Jobs.Get(ctx, name); err != nil {
		return nil, err
	}
	now := o.Clock()
	req := &events.SyncRequested{Run: events.Run{RunID: jobs.ManualRunID(name, now), Job: name, Trigger: events.TriggerManual,
		RequestedAt: now, DryRun: dryRun}, Mode: mode}
	if err := o.Pub.Publish(ctx, req); err != nil {
		return nil, fmt.Errorf("request a run of %s: %w", name, err)
	}
	detail := "mode " + string(mode)
	if mode == "" {
		detail = "the job's mode"
	}
	if dryRun {
		detail += ", dry run"
	}
	return req, o.record(ctx, actor, "job.run", name, nil, map[string]string{"run_id": req.RunID}, detail)
}

// CheckNoRun refuses while a run of the job holds its lease. A run that
// just finished releases it a moment after its outcome is known (guard
// handles sync.completed), so a lease is given a second or two first, as
// guard itself does.
func (o *Ops) CheckNoRun(ctx context.Context, name string) error {
	deadline := time.Now().Add(2 * time.Second)
	for {
		l, _, err := o.Leases.Current(ctx, name)
		if err != nil {
			return err
		}
		if l == nil || !o.Clock().Before(l.ExpiresAt) {
			return nil
		}
		if time.Now().After(deadline) {
			return Fail(Conflict, "run %s of job %s is still in progress (started %s); wait for it to finish",
				l.RunID, name, l.Acquired.UTC().Format(time.RFC3339))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// RestoreJob stores a job exported from this same environment (a backup),
// as it was; a job of that name is kept (jobs.ErrExists).
func (o *Ops) RestoreJob(ctx context.Context, actor events.Actor, j *jobs.Job) error {
	if err := o.Jobs.Create(ctx, j); err != nil {
		return err
	}
	return o.record(ctx, actor, "job.import", j.Name, nil, j, "restored from an export of this environment")
}

// JobView is a job as the command line's --json and the API show it: the
// job and its next run.
type JobView struct {
	*jobs.Job
	NextRun string `json:"next_run,omitempty"`
}

// ViewJob returns a job with its next run (none while disabled or
// unscheduled).
func (o *Ops) ViewJob(ctx context.Context, j *jobs.Job) JobView {
	v := JobView{Job: j}
	if !j.Enabled {
		return v
	}
	var last time.Time
	if e, err := o.Ticks.Get(ctx, j.Name); err == nil {
		last, _ = time.Parse(time.RFC3339, string(e.Value()))
	}
	if next, ok := j.Schedule.NextRun(j.ScheduleSince, last, o.Clock()); ok {
		v.NextRun = next.UTC().Format(time.RFC3339)
	}
	return v
}

// ViewJobs lists every job with its next run.
func (o *Ops) ViewJobs(ctx context.Context) ([]JobView, error) {
	list, err := o.Jobs.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]JobView, 0, len(list))
	for _, j := range list {
		out = append(out, o.ViewJob(ctx, j))
	}
	return out, nil
}

package jobs

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Run-when values of a time span schedule.
const (
	RunImmediately = "immediately"
	RunScheduled   = "scheduled"
)

// Schedule is a job's schedule: a time span ("every 12 hours", first run
// immediately or one span after creation or at Start), a cron calendar in
// a time zone, or neither (manual runs only).
type Schedule struct {
	Every    Duration   `json:"every,omitempty"`
	RunWhen  string     `json:"run_when,omitempty"`
	Start    *time.Time `json:"start,omitempty"`
	Cron     string     `json:"cron,omitempty"`
	TimeZone string     `json:"time_zone,omitempty"`
	// Anchor is the first slot of a time span schedule, fixed when the
	// schedule is set.
	Anchor *time.Time `json:"anchor,omitempty"`
}

// MinEvery is the shortest time span allowed.
const MinEvery = time.Minute

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Validate checks the schedule.
func (s Schedule) Validate() error {
	var errs []error
	if s.Every != 0 && s.Cron != "" {
		errs = append(errs, errors.New("choose --every or --cron, not both"))
	}
	if s.Every != 0 && s.Every.D() < MinEvery {
		errs = append(errs, fmt.Errorf("--every %s: the shortest span is %s", s.Every.D(), MinEvery))
	}
	if s.Every != 0 && s.RunWhen != RunImmediately && s.RunWhen != RunScheduled {
		errs = append(errs, fmt.Errorf("--run-when %q: use immediately or scheduled", s.RunWhen))
	}
	switch {
	case s.Every == 0 && s.Cron != "" && (s.RunWhen != "" || s.Start != nil):
		errs = append(errs, errors.New("--run-when and --start apply to --every schedules only: a --cron schedule runs at its calendar's slots (drop them, or use --every)"))
	case s.Every == 0 && (s.RunWhen != "" || s.Start != nil):
		errs = append(errs, errors.New("--run-when and --start need --every"))
	}
	if s.Cron != "" {
		if _, err := s.cron(); err != nil {
			errs = append(errs, err)
		}
	} else if s.TimeZone != "" {
		errs = append(errs, errors.New("--time-zone applies to --cron schedules"))
	}
	return errors.Join(errs...)
}

func (s Schedule) cron() (cron.Schedule, error) {
	prefixed, hasPrefix := cronZone(s.Cron)
	if hasPrefix && s.TimeZone != "" {
		return nil, fmt.Errorf("--cron %q names its own time zone (%s) and --time-zone %q names another: give the zone once", s.Cron, prefixed, s.TimeZone)
	}
	loc := time.UTC
	if s.TimeZone != "" {
		l, err := time.LoadLocation(s.TimeZone)
		if err != nil {
			return nil, fmt.Errorf("--time-zone %q: %w", s.TimeZone, err)
		}
		loc = l
	}
	sch, err := cronParser.Parse(s.Cron)
	if err != nil {
		return nil, fmt.Errorf("--cron %q: %w", s.Cron, err)
	}
	// A CRON_TZ= or TZ= prefix sets the zone (the parser reads it);
	// otherwise --time-zone does, by default UTC.
	if spec, ok := sch.(*cron.SpecSchedule); ok && !hasPrefix {
		spec.Location = loc
	}
	return sch, nil
}

// cronZone returns the zone of a cron expression's CRON_TZ= or TZ= prefix.
func cronZone(expr string) (string, bool) {
	expr = strings.TrimSpace(expr)
	for _, p := range []string{"CRON_TZ=", "TZ="} {
		if rest, ok := strings.CutPrefix(expr, p); ok {
			zone, _, _ := strings.Cut(rest, " ")
			return zone, true
		}
	}
	return "", false
}

// Zone is the time zone a cron schedule is read in: --time-zone, else the
// expression's CRON_TZ= or TZ= prefix, else UTC.
func (s Schedule) Zone() string {
	if s.TimeZone != "" {
		return s.TimeZone
	}
	if z, ok := cronZone(s.Cron); ok {
		return z
	}
	return "UTC"
}

// SetAnchor fixes the first slot of a time span schedule from the time the
// schedule was set.
func (s *Schedule) SetAnchor(now time.Time) {
	s.Anchor = nil
	if s.Every == 0 {
		return
	}
	a := now.UTC().Truncate(time.Second)
	switch {
	case s.Start != nil:
		a = s.Start.UTC()
	case s.RunWhen == RunScheduled:
		a = a.Add(s.Every.D())
	}
	s.Anchor = &a
}

// Scheduled reports whether the schedule starts runs by itself.
func (s Schedule) Scheduled() bool { return s.Every != 0 || s.Cron != "" }

// Next returns the first slot strictly after t.
func (s Schedule) Next(t time.Time) (time.Time, bool) {
	switch {
	case s.Every != 0 && s.Anchor != nil:
		if t.Before(*s.Anchor) {
			return *s.Anchor, true
		}
		n := t.Sub(*s.Anchor)/s.Every.D() + 1
		return s.Anchor.Add(n * s.Every.D()), true
	case s.Cron != "":
		sch, err := s.cron()
		if err != nil {
			return time.Time{}, false
		}
		return sch.Next(t).UTC(), true
	}
	return time.Time{}, false
}

// Due returns the slot a tick should start at now: the latest slot not
// after now, provided it is not before since (when the schedule was set or
// the job enabled) and after lastFired (the last slot started). Missed older
// slots are not run one by one: a tick that was down for a day starts one
// run, not two.
func (s Schedule) Due(since, lastFired, now time.Time) (time.Time, bool) {
	var last time.Time
	switch {
	case s.Every != 0 && s.Anchor != nil:
		if now.Before(*s.Anchor) {
			return time.Time{}, false
		}
		n := now.Sub(*s.Anchor) / s.Every.D()
		last = s.Anchor.Add(n * s.Every.D())
	case s.Cron != "":
		probe := since.Add(-time.Nanosecond)
		if floor := now.Add(-48 * time.Hour); probe.Before(floor) {
			probe = floor
		}
		for {
			n, ok := s.Next(probe)
			if !ok || n.After(now) {
				break
			}
			last, probe = n, n
		}
	default:
		return time.Time{}, false
	}
	// Slots have second precision; since may not.
	if last.IsZero() || last.Before(since.Truncate(time.Second)) || !last.After(lastFired) {
		return time.Time{}, false
	}
	return last, true
}

// NextRun is when the schedule starts its next run: a due slot (now, if a
// tick is running), else the first slot after now. ok is false for manual
// jobs.
func (s Schedule) NextRun(since, lastFired, now time.Time) (time.Time, bool) {
	if due, ok := s.Due(since, lastFired, now); ok {
		return due, true
	}
	return s.Next(now)
}

// SameAs says whether two schedules are the same as an administrator set
// them (the anchor, which adsync derives, aside).
func (s Schedule) SameAs(o Schedule) bool {
	sameStart := (s.Start == nil) == (o.Start == nil) && (s.Start == nil || s.Start.Equal(*o.Start))
	return s.Every == o.Every && s.RunWhen == o.RunWhen && sameStart && s.Cron == o.Cron && s.TimeZone == o.TimeZone
}

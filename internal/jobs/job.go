// Package jobs holds AD Sync Jobs: their model, their schedules and their
// store, a JetStream key-value bucket that every tick and guard instance
// shares.
package jobs

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/adsync/adsync/events"
)

// Job is an AD Sync Job.
type Job struct {
	Name    string `json:"name"`
	Enabled bool   `json:"enabled"`
	// AllDomains syncs every configured domain, including ones added later.
	AllDomains bool     `json:"all_domains"`
	Domains    []string `json:"domains,omitempty"`
	Schedule   Schedule `json:"schedule"`
	Requeue    Requeue  `json:"requeue"`
	// Safety is the deletion guard; nil means the defaults.
	Safety *events.Safety `json:"safety,omitempty"`
	// Groups limits the groups synced (base DN, filter).
	Groups events.Scope `json:"groups"`
	// Mode is auto (delta reads when a valid watermark exists, full reads
	// periodically), full or delta.
	Mode events.Mode `json:"mode,omitempty"`
	// Environment is the installation the job was created in; a job found
	// in another one is never run.
	Environment string `json:"environment"`
	// ScheduleSince is when the schedule was set or the job last enabled:
	// no slot before it is started.
	ScheduleSince time.Time `json:"schedule_since"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// Requeue is "Requeue if Job Fails": retry a run that failed for a
// transient reason, through JetStream redelivery. The run's events carry
// it as it is.
type Requeue = events.RequeuePolicy

// Deletion guard defaults: hold a plan that deactivates more than 500
// accounts or 10% of a domain's active ones, or reads 10% fewer users than
// the last good run.
var DefaultSafety = events.Safety{MaxDeactivations: 500, MaxDeactivationPercent: 10, MaxResultDropPercent: 10}

// SafetyPolicy returns the job's deletion guard.
func (j *Job) SafetyPolicy() events.Safety {
	if j.Safety == nil {
		return DefaultSafety
	}
	return *j.Safety
}

// Requeue defaults.
const (
	DefaultMaxAttempts  = 5
	DefaultInitialDelay = 30 * time.Second
	DefaultMaxDelay     = 10 * time.Minute
)

var namePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Validate checks a job; every problem is reported.
func (j *Job) Validate(maxAttempts int) error {
	var errs []error
	if !namePattern.MatchString(j.Name) {
		errs = append(errs, fmt.Errorf("job name %q: use 1-64 letters, digits, '-' or '_'", j.Name))
	}
	if j.AllDomains && len(j.Domains) > 0 {
		errs = append(errs, errors.New("choose --all-domains or --domain, not both"))
	}
	if !j.AllDomains && len(j.Domains) == 0 {
		errs = append(errs, errors.New("choose the domains to sync: --all-domains or --domain NAME (repeatable)"))
	}
	if err := j.Schedule.Validate(); err != nil {
		errs = append(errs, err)
	}
	switch j.Mode {
	case "", events.ModeAuto, events.ModeFull, events.ModeDelta:
	default:
		errs = append(errs, fmt.Errorf("--mode %q: use auto, full or delta", j.Mode))
	}
	sp := j.SafetyPolicy()
	if sp.MaxDeactivations < 0 {
		errs = append(errs, errors.New("--max-deactivations must be 0 (off) or more"))
	}
	for _, p := range []struct {
		flag string
		v    int
	}{{"--max-deactivation-percent", sp.MaxDeactivationPercent}, {"--max-result-drop-percent", sp.MaxResultDropPercent}} {
		if p.v < 0 || p.v > 100 {
			errs = append(errs, fmt.Errorf("%s %d: use 0 (off) to 100", p.flag, p.v))
		}
	}
	if j.Groups.BaseDN != "" {
		if _, err := ldap.ParseDN(j.Groups.BaseDN); err != nil {
			errs = append(errs, fmt.Errorf("--groups-base-dn %q: %w", j.Groups.BaseDN, err))
		}
	}
	if j.Groups.Filter != "" {
		if _, err := ldap.CompileFilter(j.Groups.Filter); err != nil {
			errs = append(errs, fmt.Errorf("--groups-filter %q: %w", j.Groups.Filter, err))
		}
	}
	if j.Requeue.Enabled {
		if j.Requeue.MaxAttempts < 2 || j.Requeue.MaxAttempts > maxAttempts {
			errs = append(errs, fmt.Errorf("requeue attempts %d: must be 2-%d (the first attempt counts)", j.Requeue.MaxAttempts, maxAttempts))
		}
		if j.Requeue.InitialDelay.D() <= 0 || j.Requeue.MaxDelay.D() < j.Requeue.InitialDelay.D() {
			errs = append(errs, errors.New("requeue delays: need 0 < initial delay <= max delay"))
		}
	}
	return errors.Join(errs...)
}

// Duration is a time.Duration stored as Go duration text.
type Duration = events.Duration

// ManualRunID is the id of a run requested by hand (the command line, the
// API): the job, the time and a random suffix.
func ManualRunID(job string, now time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%s-%s", job, now.UTC().Format("20060102T150405Z"), hex.EncodeToString(b[:]))
}

// FillRequeueDefaults gives unset requeue settings their defaults (as the
// command line's flags do).
func FillRequeueDefaults(r *Requeue) {
	if r.MaxAttempts == 0 {
		r.MaxAttempts = DefaultMaxAttempts
	}
	if r.InitialDelay == 0 {
		r.InitialDelay = Duration(DefaultInitialDelay)
	}
	if r.MaxDelay == 0 {
		r.MaxDelay = Duration(DefaultMaxDelay)
	}
}

package events

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"
)

// The bulk events (directory pages, account changes) are checked by these
// Validate methods instead of their JSON Schemas on receipt: schema
// validation of every entry cost a sixth of diff's and a quarter of the
// writer's CPU. They check what the schemas check; a test holds the two to
// the same verdicts.

var (
	runIDPattern  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,200}$`)
	domainPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,100}$`)
	batchPattern  = regexp.MustCompile(`^[a-z][0-9]+$`)
)

func (r Run) validate() error {
	var errs []error
	if !runIDPattern.MatchString(r.RunID) {
		errs = append(errs, fmt.Errorf("run_id %q is not a run id", r.RunID))
	}
	if r.Job == "" || len(r.Job) > 100 {
		errs = append(errs, errors.New("job is required (at most 100 characters)"))
	}
	switch r.Trigger {
	case TriggerSchedule, TriggerManual, TriggerRequeue:
	default:
		errs = append(errs, fmt.Errorf("trigger %q is not schedule, manual or requeue", r.Trigger))
	}
	if r.RequestedAt.IsZero() {
		errs = append(errs, errors.New("requested_at is required"))
	}
	for i, h := range r.Held {
		if err := validDomain(h.Domain); err != nil {
			errs = append(errs, fmt.Errorf("held/%d: %w", i, err))
		}
		if !runIDPattern.MatchString(h.RunID) {
			errs = append(errs, fmt.Errorf("held/%d: run_id %q is not a run id", i, h.RunID))
		}
		if h.Reasons == nil {
			errs = append(errs, fmt.Errorf("held/%d: reasons are required", i))
		}
	}
	return errors.Join(errs...)
}

func validDomain(d string) error {
	if !domainPattern.MatchString(d) {
		return fmt.Errorf("domain %q is not a domain name", d)
	}
	return nil
}

func (e DirectoryEntry) validate(i int) error {
	var errs []error
	if e.ID == "" {
		errs = append(errs, fmt.Errorf("entries/%d: id is required", i))
	}
	if e.Username == "" {
		errs = append(errs, fmt.Errorf("entries/%d: username is required", i))
	}
	switch e.DisabledReason {
	case "", ReasonDirectoryDisabled, ReasonExpired:
	default:
		errs = append(errs, fmt.Errorf("entries/%d: disabled_reason %q", i, e.DisabledReason))
	}
	for j, g := range e.GroupRefs {
		if g.ID == "" {
			errs = append(errs, fmt.Errorf("entries/%d/group_refs/%d: id is required", i, j))
		}
	}
	return errors.Join(errs...)
}

// Validate checks a decoded directory page.
func (e *DirectoryPage) Validate() error {
	errs := []error{e.Run.validate(), validDomain(e.Domain)}
	if e.Attempt < 1 {
		errs = append(errs, errors.New("attempt must be at least 1"))
	}
	if e.Seq < 1 {
		errs = append(errs, errors.New("seq must be at least 1"))
	}
	if e.ObservedAt.Equal(time.Time{}) {
		errs = append(errs, errors.New("observed_at is required"))
	}
	if e.Entries == nil {
		errs = append(errs, errors.New("entries is required"))
	}
	for i, en := range e.Entries {
		errs = append(errs, en.validate(i))
	}
	for _, ids := range [][]string{e.Kept, e.Gone, e.OutOfScope} {
		if slices.Contains(ids, "") {
			errs = append(errs, errors.New("kept, gone and out_of_scope ids must not be empty"))
			break
		}
	}
	return errors.Join(errs...)
}

// Validate checks a decoded batch of account changes.
func (e *AccountChanges) Validate() error {
	errs := []error{e.Run.validate(), validDomain(e.Domain)}
	if e.Attempt < 1 {
		errs = append(errs, errors.New("attempt must be at least 1"))
	}
	if !batchPattern.MatchString(e.Batch) {
		errs = append(errs, fmt.Errorf("batch %q is not a batch name", e.Batch))
	}
	if e.Changes == nil {
		errs = append(errs, errors.New("changes is required"))
	}
	for i, c := range e.Changes {
		switch c.Op {
		case OpCreate, OpUpdate, OpReactivate:
			if c.Entry == nil {
				errs = append(errs, fmt.Errorf("changes/%d: %s needs the entry", i, c.Op))
			}
		case OpDeactivate:
		default:
			errs = append(errs, fmt.Errorf("changes/%d: op %q is not create, update, deactivate or reactivate", i, c.Op))
		}
		if c.ExternalID == "" {
			errs = append(errs, fmt.Errorf("changes/%d: external_id is required", i))
		}
		if c.Entry != nil {
			errs = append(errs, c.Entry.validate(i))
		}
	}
	return errors.Join(errs...)
}

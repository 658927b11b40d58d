// Package admin is what administrators do to the running system: create,
// change and delete jobs, run them, decide held plans, set local holds,
// switch single sign-on, replay dead letters. The command line, the HTTP
// API and the console all call it, so that each operation checks the same
// rules, says the same things, and writes exactly one audit record with
// the actor that the caller authenticated (internal/audit).
package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/audit"
	"github.com/adsync/adsync/internal/holds"
	"github.com/adsync/adsync/internal/jobs"
	"github.com/adsync/adsync/internal/leases"
	"github.com/adsync/adsync/internal/settings"
	"github.com/adsync/adsync/internal/signin"
)

// Ops performs administrators' operations.
type Ops struct {
	Jobs     *jobs.Store
	Settings *settings.Store
	Holds    *holds.Store
	Leases   *leases.Store
	// Admins are the console's local administrators.
	Admins *signin.Admins
	// Ticks holds the last scheduled slot tick started per job.
	Ticks jetstream.KeyValue
	// Pub publishes events and audit records; JS and NC reach streams and
	// the services' endpoints.
	Pub audit.Publisher
	JS  jetstream.JetStream
	NC  *nats.Conn
	// Domains are the configured domains' names (a job may only name these).
	Domains []string
	// MaxRequeueAttempts bounds a job's requeue attempts (the consumers'
	// MaxDeliver).
	MaxRequeueAttempts int
	Now                func() time.Time
}

// Kind classifies an operation's error for the caller (an HTTP status, an
// exit code).
type Kind int

// Error kinds.
const (
	Invalid  Kind = iota + 1 // bad input: change the request
	NotFound                 // no such job, run, plan or account
	Conflict                 // the state forbids it now (exists, in progress)
)

// Error is an operation's classified error.
type Error struct {
	Kind Kind
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// KindOf returns an error's kind (0: not classified, e.g. NATS failed).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	switch {
	case errors.Is(err, jobs.ErrNotFound), errors.Is(err, signin.ErrNoAdmin):
		return NotFound
	case errors.Is(err, jobs.ErrExists), errors.Is(err, signin.ErrAdminExists):
		return Conflict
	}
	return 0
}

// Fail returns an error of a kind.
func Fail(kind Kind, format string, a ...any) error {
	return &Error{Kind: kind, Err: fmt.Errorf(format, a...)}
}

// Clock is the time now (UTC).
func (o *Ops) Clock() time.Time {
	if o.Now == nil {
		return time.Now().UTC()
	}
	return o.Now().UTC()
}

func (o *Ops) record(ctx context.Context, actor events.Actor, action, target string, before, after any, detail string) error {
	return audit.Record(ctx, o.Pub, o.Clock(), actor, action, target, before, after, detail)
}

// checkDomains refuses domains the configuration does not have.
func (o *Ops) checkDomains(j *jobs.Job) error {
	for _, d := range j.Domains {
		if !slices.Contains(o.Domains, d) {
			return Fail(Invalid, "domain %q is not configured (configured: %s)", d, strings.Join(o.Domains, ", "))
		}
	}
	return nil
}

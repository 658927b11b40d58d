// Package events holds the typed, versioned events that adsync's services
// exchange over NATS JetStream.
//
// Every event has a stable wire name ("sync.requested.v1") that is also its
// subject (prefixed with "adsync."), a JSON Schema in schemas/events, and a
// deterministic message id derived from the run, the domain and a sequence,
// so that JetStream de-duplicates a repeated publication and consumers can
// apply a redelivered event once.
//
// Compatibility rule: fields are only ever added to a version; a breaking
// change is a new event with a new version suffix (".v2").
package events

import "time"

// SubjectPrefix is prepended to every wire name to form the NATS subject.
const SubjectPrefix = "adsync."

// Event is implemented by every event struct in this package.
type Event interface {
	// EventName is the stable, versioned wire name, e.g. "sync.requested.v1".
	EventName() string
	// MessageID is the deterministic JetStream message id (Nats-Msg-Id).
	MessageID() string
}

// Subject returns the NATS subject an event is published on.
func Subject(e Event) string { return SubjectPrefix + e.EventName() }

// SubjectOf returns the NATS subject for a wire name.
func SubjectOf(name string) string { return SubjectPrefix + name }

// Trigger says why a run was requested.
type Trigger string

const (
	TriggerSchedule Trigger = "schedule"
	TriggerManual   Trigger = "manual"
	TriggerRequeue  Trigger = "requeue"
)

// Mode is the kind of read a run does.
type Mode string

const (
	ModeFull  Mode = "full"
	ModeDelta Mode = "delta"
	// ModeAuto reads changes only when a valid watermark exists and no full
	// read is due.
	ModeAuto Mode = "auto"
)

// Run identifies a run and travels, unchanged, with every event of it.
type Run struct {
	RunID       string    `json:"run_id"`
	Job         string    `json:"job"`
	Trigger     Trigger   `json:"trigger"`
	RequestedAt time.Time `json:"requested_at"`
	// DryRun runs compute the full plan and write nothing.
	DryRun bool `json:"dry_run,omitempty"`
	// Held lists the job's domains that guard left out of the run because
	// the deletion guard holds a plan of theirs (set from sync.approved on):
	// the run's summary reports each as held, not read.
	Held []HeldDomain `json:"held,omitempty"`
}

// HeldDomain is a domain left out of a run: RunID's plan for it is held by
// the deletion guard until an administrator approves or discards it.
type HeldDomain struct {
	Domain  string   `json:"domain"`
	RunID   string   `json:"run_id"`
	Reasons []string `json:"reasons"`
}

// RunRef gives access to the run an event belongs to (for logging and routing).
type RunRef interface {
	Event
	RunInfo() Run
}

func (r Run) RunInfo() Run { return r }

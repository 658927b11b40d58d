package events

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/segmentio/encoding/json"
)

// Audit actor kinds: who made a change.
const (
	ActorToken   = "token"   // an HTTP API client, by its token's name
	ActorConsole = "console" // a console user, by their sign-in name
	ActorCLI     = "cli"     // the command line, by its NATS identity
)

// Actor is who made a change, as authenticated: a token's name, a console
// user's name, or the command line's NATS identity. Never self-reported.
type Actor struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

func (a Actor) String() string { return a.Kind + ":" + a.Name }

// AuditRecorded is one change an administrator or API client made through
// the API, the console or the command line: who, when, what, and the
// object before and after. It is kept in the stream ADSYNC_AUDIT
// (audit.max_age).
type AuditRecorded struct {
	At    time.Time `json:"at"`
	Actor Actor     `json:"actor"`
	// Action is what was done, e.g. job.create, plan.approve, account.hold.
	Action string `json:"action"`
	// Target names the object: a job's name, a run id, domain/external_id.
	Target string `json:"target"`
	// Before and After are the object's JSON (absent where it did not
	// exist, or for an action without a stored object, e.g. a run request).
	Before json.RawMessage `json:"before,omitempty"`
	After  json.RawMessage `json:"after,omitempty"`
	// Detail says more in words (a reason, the jobs a forced SSO switch
	// disabled).
	Detail string `json:"detail,omitempty"`
}

func (AuditRecorded) EventName() string { return "audit.recorded.v1" }

// MessageID is a hash of the whole record: a retried publication of the
// same record is stored once.
func (e AuditRecorded) MessageID() string {
	raw, _ := json.Marshal(e)
	sum := sha256.Sum256(raw)
	return "audit.recorded.v1:" + hex.EncodeToString(sum[:16])
}

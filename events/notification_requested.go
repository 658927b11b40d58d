package events

import "strconv"

// Notification kinds: what a rule of notify.rules can name.
const (
	AlertRunHeld          = "run.held"
	AlertRunFailed        = "run.failed"
	AlertRunPartial       = "run.partial"
	AlertRunRejected      = "run.rejected"
	AlertJobStale         = "job.stale"
	AlertRequeueExhausted = "requeue.exhausted"
	AlertDeadLetterAdded  = "deadletter.added"
	AlertDriftFound       = "drift.found"
	// AlertTest is `adsync notify test`.
	AlertTest = "test"
)

// AlertKinds are the kinds a rule may name.
var AlertKinds = []string{AlertRunHeld, AlertRunFailed, AlertRunPartial, AlertRunRejected, AlertJobStale,
	AlertRequeueExhausted, AlertDeadLetterAdded, AlertDriftFound}

// Alert states.
const (
	AlertFiring   = "firing"
	AlertResolved = "resolved"
)

// NotificationRequested asks for one alert to be delivered on one channel
// (stream ADSYNC_NOTIFY). The notifier publishes it when a rule matches;
// its delivery consumer sends it, retrying with back-off until the
// receiver takes it. ID is the alert's idempotency key: the same alert
// has the same ID on every channel and every attempt.
type NotificationRequested struct {
	ID      string `json:"id"`
	Channel string `json:"channel"`
	Kind    string `json:"kind"`
	State   string `json:"state"`
	Job     string `json:"job,omitempty"`
	Domain  string `json:"domain,omitempty"`
	RunID   string `json:"run_id,omitempty"`
	// Title is one line; Text says what happened, the numbers and what to
	// do; Link is the console page.
	Title string `json:"title"`
	Text  string `json:"text"`
	Link  string `json:"link,omitempty"`
	At    string `json:"at"`
}

func (NotificationRequested) EventName() string { return "notification.requested.v1" }
func (e NotificationRequested) MessageID() string {
	return "notification.requested.v1:" + e.Channel + ":" + e.ID + ":" + e.State
}

// NotificationFailed says that one delivery of a notification failed: it
// is tried again in RetryIn, or, Refused, dead-lettered (the receiver
// refused it for good). `adsync watch` and the console show it.
type NotificationFailed struct {
	ID      string `json:"id"`
	Channel string `json:"channel"`
	Kind    string `json:"kind"`
	State   string `json:"state"`
	Attempt int    `json:"attempt"`
	Error   string `json:"error"`
	RetryIn string `json:"retry_in,omitempty"`
	Refused bool   `json:"refused,omitempty"`
	At      string `json:"at"`
}

func (NotificationFailed) EventName() string { return "notification.failed.v1" }
func (e NotificationFailed) MessageID() string {
	return "notification.failed.v1:" + e.Channel + ":" + e.ID + ":" + e.State + ":" + strconv.Itoa(e.Attempt)
}

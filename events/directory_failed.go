package events

import (
	"strconv"
	"time"
)

// DirectoryFailed says that an attempt to read a domain ended in an error.
// Nothing is deactivated for such an attempt. When WillRetry is set, the
// request is redelivered by JetStream after RetryIn; otherwise the domain's
// outcome in the run is failed.
type DirectoryFailed struct {
	Run
	Domain    string   `json:"domain"`
	Domains   []string `json:"domains"`
	Attempt   int      `json:"attempt"`
	Reason    string   `json:"reason"`
	Transient bool     `json:"transient"`
	WillRetry bool     `json:"will_retry"`
	// RetryIn is the back-off before the next attempt (Go duration syntax).
	RetryIn     string    `json:"retry_in,omitempty"`
	MaxAttempts int       `json:"max_attempts,omitempty"`
	PagesRead   int       `json:"pages_read"`
	FailedAt    time.Time `json:"failed_at"`
	// Refused is set when a requeued attempt was refused by the admission
	// checks (single sign-on on, job missing or disabled, job of another
	// environment) before anything was read: the codes, in the order of
	// the reasons in Reason. Such an attempt is never retried.
	Refused []string `json:"refused,omitempty"`
}

func (DirectoryFailed) EventName() string { return "directory.failed.v1" }
func (e DirectoryFailed) MessageID() string {
	return "directory.failed.v1:" + e.RunID + ":" + e.Domain + ":" + strconv.Itoa(e.Attempt)
}

package events

import "strconv"

// Domain outcomes.
const (
	OutcomeCompleted = "completed"
	OutcomeFailed    = "failed"
	OutcomeRejected  = "rejected"
	OutcomePartial   = "partial"
	OutcomeHeld      = "held"
)

// ChangesCompleted is diff's word that it has published every change of a
// domain in a run (Batches of them), or that the domain failed.
type ChangesCompleted struct {
	Run
	Domain  string   `json:"domain"`
	Domains []string `json:"domains"`
	Attempt int      `json:"attempt"`
	Outcome string   `json:"outcome"`
	Reason  string   `json:"reason,omitempty"`
	// Batches is the number of AccountChanges batches published for the
	// attempt; the writer finishes the domain once it has applied all.
	Batches int `json:"batches"`
	// Planned counts the changes diff published; Unchanged is known only
	// to diff.
	Planned  Counts `json:"planned"`
	Entries  int    `json:"entries"`
	Skipped  int    `json:"skipped"`
	Attempts int    `json:"attempts"`
}

// Counts are a domain's account changes in a run.
type Counts struct {
	Created     int `json:"created"`
	Updated     int `json:"updated"`
	Deactivated int `json:"deactivated"`
	Reactivated int `json:"reactivated"`
	Unchanged   int `json:"unchanged"`
}

// Add returns the sum of two counts.
func (c Counts) Add(o Counts) Counts {
	return Counts{
		Created:     c.Created + o.Created,
		Updated:     c.Updated + o.Updated,
		Deactivated: c.Deactivated + o.Deactivated,
		Reactivated: c.Reactivated + o.Reactivated,
		Unchanged:   c.Unchanged + o.Unchanged,
	}
}

func (ChangesCompleted) EventName() string { return "changes.completed.v1" }
func (e ChangesCompleted) MessageID() string {
	return "changes.completed.v1:" + e.RunID + ":" + e.Domain + ":" + strconv.Itoa(e.Attempt)
}

package events

import "strconv"

// Domain outcomes.
const (
	OutcomeCompleted = "completed"
	OutcomeFailed    = "failed"
	OutcomeRejected  = "rejected"
	OutcomePartial   = "partial"
	OutcomeHeld      = "held"
	// OutcomeDryRun is a dry run's domain: the plan was computed, nothing
	// was written.
	OutcomeDryRun = "dry-run"
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
	// TotalBatches counts the batches of every attempt of the run for the
	// domain (the writer applies all of them, or none).
	TotalBatches int `json:"total_batches"`
	// Hold says why a plan was held by the deletion guard (outcome held).
	Hold *Hold `json:"hold,omitempty"`
	// SkippedDNs lists directory entries that could not be synced.
	SkippedDNs []Skipped `json:"skipped_sample,omitempty"`
	// Mode is the read's actual mode; Watermark is saved once applied.
	Mode      Mode       `json:"mode,omitempty"`
	Watermark *Watermark `json:"watermark,omitempty"`
}

// Hold is the deletion guard's finding: the numbers and every limit the
// plan went over.
type Hold struct {
	Deactivations   int      `json:"deactivations"`
	ActiveBefore    int      `json:"active_before"`
	Entries         int      `json:"entries"`
	LastGoodEntries int      `json:"last_good_entries"`
	Reasons         []string `json:"reasons"`
}

// Counts are a domain's account changes in a run.
type Counts struct {
	Created     int `json:"created"`
	Updated     int `json:"updated"`
	Deactivated int `json:"deactivated"`
	Reactivated int `json:"reactivated"`
	Unchanged   int `json:"unchanged"`
	// Joined and Left count group memberships gained and lost.
	Joined int `json:"joined"`
	Left   int `json:"left"`
}

// Add returns the sum of two counts.
func (c Counts) Add(o Counts) Counts {
	return Counts{
		Created:     c.Created + o.Created,
		Updated:     c.Updated + o.Updated,
		Deactivated: c.Deactivated + o.Deactivated,
		Reactivated: c.Reactivated + o.Reactivated,
		Unchanged:   c.Unchanged + o.Unchanged,
		Joined:      c.Joined + o.Joined,
		Left:        c.Left + o.Left,
	}
}

func (ChangesCompleted) EventName() string { return "changes.completed.v1" }
func (e ChangesCompleted) MessageID() string {
	return "changes.completed.v1:" + e.RunID + ":" + e.Domain + ":" + strconv.Itoa(e.Attempt)
}

package events

import "strconv"

// Change operations.
const (
	OpCreate     = "create"
	OpUpdate     = "update"
	OpDeactivate = "deactivate"
	OpReactivate = "reactivate"
)

// AccountChanges is a batch of account changes that diff computed for one
// domain in one attempt of a run. Batch names the batch within the attempt:
// "p<seq>" for the changes of directory page seq, "r<n>" for the n-th batch
// of deactivations found at the end of a complete read.
//
// ApplyNow marks a page's batch of a domain's first sync: diff had no
// record of the domain, so the deletion guard cannot hold the plan, and the
// run is not a dry run. The writer applies such a batch as it arrives,
// instead of with the rest of the plan, and keeps it whatever the run's
// outcome; diff's record of a failed run goes back as any run's, and the
// next run's creation of such an account finds it in place (unchanged). A
// writer that ignores the field applies the batch with the plan.
type AccountChanges struct {
	Run
	Domain   string          `json:"domain"`
	Attempt  int             `json:"attempt"`
	Batch    string          `json:"batch"`
	Changes  []AccountChange `json:"changes"`
	ApplyNow bool            `json:"apply_now,omitempty"`
}

// AccountChange is one account's change. Entry is the account's state in the
// directory (nil for an account that is gone from it).
type AccountChange struct {
	Op         string          `json:"op"`
	ExternalID string          `json:"external_id"`
	Entry      *DirectoryEntry `json:"entry,omitempty"`
	// Fields lists the account fields that changed (update, reactivate).
	Fields []string `json:"fields,omitempty"`
	// Reason says why an account is deactivated or reactivated.
	Reason string `json:"reason,omitempty"`
	// Version orders changes of one account: the directory observation time
	// in Unix nanoseconds. A change older than the account's is ignored.
	Version int64 `json:"version"`
}

func (AccountChanges) EventName() string { return "account.changes.v1" }
func (e AccountChanges) MessageID() string {
	return "account.changes.v1:" + e.RunID + ":" + e.Domain + ":" + strconv.Itoa(e.Attempt) + ":" + e.Batch
}

// CountOp returns the counts one change of the given operation adds to.
func CountOp(op string) Counts {
	switch op {
	case OpCreate:
		return Counts{Created: 1}
	case OpUpdate:
		return Counts{Updated: 1}
	case OpDeactivate:
		return Counts{Deactivated: 1}
	case OpReactivate:
		return Counts{Reactivated: 1}
	}
	return Counts{}
}

package events

import (
	"strconv"
	"time"
)

// DirectoryPage is one batch of entries read from a domain during one attempt
// of a run. Seq counts from 1 within the attempt.
type DirectoryPage struct {
	Run
	Domain  string `json:"domain"`
	Attempt int    `json:"attempt"`
	Seq     int    `json:"seq"`
	// ObservedAt is when the reader read this page; it orders observations
	// of the same entry across runs (a replayed old page never wins).
	ObservedAt time.Time        `json:"observed_at"`
	Entries    []DirectoryEntry `json:"entries"`
	// Kept lists the ids of entries read with this page that could not be
	// synced (see directory.completed's skipped sample): they exist, so
	// their accounts are kept as they are, never taken for gone.
	Kept []string `json:"kept,omitempty"`
	// Gone lists the ids the directory reports deleted (Active Directory
	// tombstones, read by delta reads).
	Gone []string `json:"gone,omitempty"`
	// OutOfScope lists the ids of users that changed since the last read
	// and are no longer in the sync's scope (moved out of the base DN, no
	// longer matching the user filter); the directory still has them
	// (delta reads).
	OutOfScope []string `json:"out_of_scope,omitempty"`
}

func (DirectoryPage) EventName() string { return "directory.page.v1" }
func (e DirectoryPage) MessageID() string {
	return "directory.page.v1:" + e.RunID + ":" + e.Domain + ":" + strconv.Itoa(e.Attempt) + ":" + strconv.Itoa(e.Seq)
}

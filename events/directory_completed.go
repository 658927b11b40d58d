package events

import (
	"strconv"
	"time"
)

// DirectoryCompleted says that an attempt read a domain completely and
// without error, and how many pages it published. Only after it may anyone
// be deactivated for being absent.
type DirectoryCompleted struct {
	Run
	Domain     string    `json:"domain"`
	Domains    []string  `json:"domains"`
	Attempt    int       `json:"attempt"`
	Pages      int       `json:"pages"`
	Entries    int       `json:"entries"`
	Skipped    int       `json:"skipped"`
	SkippedDNs []Skipped `json:"skipped_sample,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	Mode       Mode      `json:"mode,omitempty"`
	Safety     Safety    `json:"safety"`
	// Watermark is where the next delta read may start once this run's
	// changes are applied; FullReason says why a full read was done when
	// the job allowed a delta read.
	Watermark  *Watermark `json:"watermark,omitempty"`
	FullReason string     `json:"full_reason,omitempty"`
	// Swept says that a delta read also listed every user in scope (pages'
	// Kept), InScope of them: the accounts it did not see are gone, as
	// after a full read, and InScope is the read's result count for the
	// deletion guard.
	Swept   bool `json:"swept,omitempty"`
	InScope int  `json:"in_scope,omitempty"`
}

// Skipped is a directory entry that could not be synced, with why.
type Skipped struct {
	DN     string `json:"dn"`
	Reason string `json:"reason"`
}

func (DirectoryCompleted) EventName() string { return "directory.completed.v1" }
func (e DirectoryCompleted) MessageID() string {
	return "directory.completed.v1:" + e.RunID + ":" + e.Domain + ":" + strconv.Itoa(e.Attempt)
}

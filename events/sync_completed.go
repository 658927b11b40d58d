package events

import "time"

// SyncCompleted is the terminal event of every approved run, published by
// account-writer once each domain of the run has an outcome. Outcome is
// "completed" when every domain completed (or, for a dry run, was
// planned), "held" when the deletion guard held some domain's plan (in
// this run, or in an earlier one that is still held: Run.Held) and no
// domain failed, "failed" when no domain completed and "partial"
// otherwise; Reasons explains every domain that did not complete.
type SyncCompleted struct {
	Run
	Outcome    string         `json:"outcome"`
	Reasons    []string       `json:"reasons"`
	Domains    []DomainResult `json:"domains"`
	Totals     Counts         `json:"totals"`
	FinishedAt time.Time      `json:"finished_at"`
}

// DomainResult is one domain's outcome in a run.
type DomainResult struct {
	Domain   string `json:"domain"`
	Outcome  string `json:"outcome"`
	Reason   string `json:"reason,omitempty"`
	Attempts int    `json:"attempts"`
	Entries  int    `json:"entries"`
	Skipped  int    `json:"skipped"`
	Counts
	// Drift counts accounts deactivated locally by an administrator that
	// the directory still has enabled.
	Drift int `json:"drift"`
	// Failed counts account changes that could not be applied (see
	// `adsync run show`).
	Failed int   `json:"failed"`
	Hold   *Hold `json:"hold,omitempty"`
	// Mode is the read's mode: full or delta.
	Mode Mode `json:"mode,omitempty"`
	// HeldBy is set (with outcome held) for a domain that was not read at
	// all: the deletion guard holds this run's plan for it.
	HeldBy string `json:"held_by,omitempty"`
}

func (SyncCompleted) EventName() string   { return "sync.completed.v1" }
func (e SyncCompleted) MessageID() string { return "sync.completed.v1:" + e.RunID }

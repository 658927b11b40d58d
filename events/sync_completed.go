package events

import "time"

// SyncCompleted is the terminal event of every approved run, published by
// account-writer once each domain of the run has an outcome. Outcome is
// "completed" when every domain completed, "failed" when none did and
// "partial" otherwise; Reasons explains every failed domain.
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
}

func (SyncCompleted) EventName() string   { return "sync.completed.v1" }
func (e SyncCompleted) MessageID() string { return "sync.completed.v1:" + e.RunID }

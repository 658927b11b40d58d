package events

// SyncRejected is guard's refusal of a run. Reasons lists every reason that
// applied, not only the first.
type SyncRejected struct {
	Run
	Reasons []string `json:"reasons"`
	// Codes are machine-readable forms of Reasons, in the same order:
	// sso-enabled, job-disabled, job-missing, run-in-progress,
	// no-job-server, wrong-environment, no-domains.
	Codes []string `json:"codes"`
}

func (SyncRejected) EventName() string   { return "sync.rejected.v1" }
func (e SyncRejected) MessageID() string { return "sync.rejected.v1:" + e.RunID }

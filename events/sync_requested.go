package events

// SyncRequested asks for a run of an AD Sync Job. Published by tick when a
// scheduled slot is due and by `adsync job run` on demand.
type SyncRequested struct {
	Run
	// Slot is the scheduled time this run stands for (schedule trigger only).
	Slot string `json:"slot,omitempty"`
	// Mode asks for a full or delta read; empty means the job's setting.
	Mode Mode `json:"mode,omitempty"`
}

func (SyncRequested) EventName() string   { return "sync.requested.v1" }
func (e SyncRequested) MessageID() string { return "sync.requested.v1:" + e.RunID }

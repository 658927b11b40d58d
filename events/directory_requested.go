package events

// DirectoryRequested asks a job server's directory-reader to read one domain
// of an approved run. Each domain of a run is its own message, so each is
// read, retried and finished independently of the others.
type DirectoryRequested struct {
	Run
	Domain string `json:"domain"`
	// Domains lists every domain of the run, so that later stages know when
	// the run is finished.
	Domains []string      `json:"domains"`
	Requeue RequeuePolicy `json:"requeue"`
	Mode    Mode          `json:"mode,omitempty"`
	Safety  Safety        `json:"safety"`
	Groups  Scope         `json:"groups"`
}

func (DirectoryRequested) EventName() string { return "directory.requested.v1" }
func (e DirectoryRequested) MessageID() string {
	return "directory.requested.v1:" + e.RunID + ":" + e.Domain
}

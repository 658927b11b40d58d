package events

import "time"

// SyncApproved is guard's admission of a run, with the domains it covers
// resolved from the job and the configuration at the time of approval.
type SyncApproved struct {
	Run
	Domains []string `json:"domains"`
	// Requeue carries the job's retry policy for transient failures.
	Requeue RequeuePolicy `json:"requeue"`
	// LeaseExpiresAt is when guard stops considering the run in progress
	// if it never finishes.
	LeaseExpiresAt string `json:"lease_expires_at,omitempty"`
	Mode           Mode   `json:"mode,omitempty"`
	Safety         Safety `json:"safety"`
	Groups         Scope  `json:"groups"`
}

// Safety is the job's deletion guard: a domain's plan is held, not
// applied, when it would deactivate more than MaxDeactivations accounts or
// MaxDeactivationPercent of the domain's active ones, or when the read
// returned more than MaxResultDropPercent fewer users than the last good
// run. 0 turns a limit off. An empty result for a domain that had active
// accounts is always held.
type Safety struct {
	MaxDeactivations       int `json:"max_deactivations"`
	MaxDeactivationPercent int `json:"max_deactivation_percent"`
	MaxResultDropPercent   int `json:"max_result_drop_percent"`
}

// Scope limits which directory groups are synced: groups under BaseDN
// (empty: the domain's group base) matching Filter (empty: all).
type Scope struct {
	BaseDN string `json:"base_dn,omitempty"`
	Filter string `json:"filter,omitempty"`
}

// RequeuePolicy says whether and how a run that fails for a transient reason
// is retried through JetStream redelivery: a job's "Requeue if Job Fails"
// (jobs.Requeue is this type), carried by the run's events.
type RequeuePolicy struct {
	Enabled bool `json:"enabled"`
	// MaxAttempts counts the first attempt too.
	MaxAttempts int `json:"max_attempts,omitempty"`
	// InitialDelay and MaxDelay bound the growing back-off, in Go duration
	// syntax ("30s").
	InitialDelay Duration `json:"initial_delay,omitempty"`
	MaxDelay     Duration `json:"max_delay,omitempty"`
}

// Duration is a time.Duration as Go duration text ("30s").
type Duration time.Duration

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

func (SyncApproved) EventName() string   { return "sync.approved.v1" }
func (e SyncApproved) MessageID() string { return "sync.approved.v1:" + e.RunID }

// Delay is the back-off after attempt n failed: the initial delay doubling
// per attempt, at most the max delay.
func (p RequeuePolicy) Delay(attempt int) time.Duration {
	initial, maxDelay := p.InitialDelay.D(), p.MaxDelay.D()
	if initial <= 0 {
		initial = 30 * time.Second
	}
	if maxDelay < initial {
		maxDelay = initial
	}
	d := initial
	for i := 1; i < attempt && d < maxDelay; i++ {
		d *= 2
	}
	return min(d, maxDelay)
}

// Watermark kinds.
const (
	WatermarkUSN       = "usn"
	WatermarkTimestamp = "timestamp"
)

// Watermark is where a domain's next delta read starts: Active Directory's
// highestCommittedUSN with the DC's invocationId, or, for generic LDAP, a
// modifyTimestamp. FullAt and DeltasSinceFull say when the last full read
// (which finds deletions) was.
type Watermark struct {
	Kind            string    `json:"kind"`
	USN             int64     `json:"usn,omitempty"`
	InvocationID    string    `json:"invocation_id,omitempty"`
	Timestamp       time.Time `json:"timestamp,omitempty"`
	FullAt          time.Time `json:"full_at"`
	DeltasSinceFull int       `json:"deltas_since_full"`
	// Settings fingerprints what the read selected and how (base DN,
	// filters, attributes, group scope): when they change, only a full
	// read gives the right accounts.
	Settings string `json:"settings,omitempty"`
	// TakenAt is when the watermark was taken (adsync's clock): an Active
	// Directory delta read also reads the users whose accountExpires passed
	// since, as expiry does not change uSNChanged.
	TakenAt time.Time `json:"taken_at,omitzero"`
	// ExpiriesKnown says NextExpiry was worked out by the read (Active
	// Directory): the next delta read needs to look for users whose
	// accountExpires passed only once NextExpiry has passed. Without it
	// (an older adsync's watermark), every delta read looks.
	ExpiriesKnown bool `json:"expiries_known,omitempty"`
	// NextExpiry is the earliest accountExpires after the read's time
	// among the active users it knew of, or zero when none of them
	// expires. It may be earlier than needed, never later.
	NextExpiry time.Time `json:"next_expiry,omitzero"`
}

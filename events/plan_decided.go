package events

import "time"

// Plan decisions.
const (
	DecisionApprove = "approve"
	DecisionDiscard = "discard"
)

// PlanDecided is an administrator's decision on a domain's held plan
// (`adsync run approve|discard RUN`): approve applies exactly the held
// plan, discard drops it and restores diff's record as it was before.
type PlanDecided struct {
	Run
	Domain    string    `json:"domain"`
	Decision  string    `json:"decision"`
	DecidedBy string    `json:"decided_by"`
	DecidedAt time.Time `json:"decided_at"`
}

func (PlanDecided) EventName() string { return "plan.decided.v1" }
func (e PlanDecided) MessageID() string {
	return "plan.decided.v1:" + e.RunID + ":" + e.Domain
}
func (e PlanDecided) DomainName() string { return e.Domain }

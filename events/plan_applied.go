package events

import "time"

// PlanApplied is account-writer's word that a held plan was applied
// (approved) or dropped (discarded).
type PlanApplied struct {
	Run
	Domain   string    `json:"domain"`
	Decision string    `json:"decision"`
	Counts   Counts    `json:"counts"`
	Failed   int       `json:"failed"`
	At       time.Time `json:"at"`
}

func (PlanApplied) EventName() string { return "plan.applied.v1" }
func (e PlanApplied) MessageID() string {
	return "plan.applied.v1:" + e.RunID + ":" + e.Domain
}
func (e PlanApplied) DomainName() string { return e.Domain }

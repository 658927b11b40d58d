package admin

import (
	"context"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/holds"
)

// DecidePlan approves or discards a run's held plans (every domain's, or
// one domain's): approve applies exactly the plan that was held, discard
// drops it. It publishes the decisions and returns them; account-writer
// applies them and diff then lifts the holds (events.PlanApplied says
// when).
func (o *Ops) DecidePlan(ctx context.Context, actor events.Actor, runID, domain, decision string) ([]*events.PlanDecided, error) {
	if decision != events.DecisionApprove && decision != events.DecisionDiscard {
		return nil, Fail(Invalid, "decision %q: approve or discard", decision)
	}
	list, err := o.Holds.List(ctx)
	if err != nil {
		return nil, err
	}
	now := o.Clock()
	var held []holds.Plan
	var decisions []*events.PlanDecided
	for _, p := range list {
		if p.RunID != runID || domain != "" && p.Domain != domain {
			continue
		}
		held = append(held, p)
		run := events.Run{RunID: p.RunID, Job: p.Job, Trigger: events.TriggerManual, RequestedAt: now}
		decisions = append(decisions, &events.PlanDecided{Run: run, Domain: p.Domain, Decision: decision, DecidedBy: actor.String(), DecidedAt: now})
	}
	if len(decisions) == 0 {
		where := ""
		if domain != "" {
			where = " for domain " + domain
		}
		return nil, Fail(NotFound, "run %s has no held plan%s (the held plans are listed by adsync run held, or GET /api/v1/held)", runID, where)
	}
	for _, d := range decisions {
		if err := o.Pub.Publish(ctx, d); err != nil {
			return nil, err
		}
	}
	return decisions, o.record(ctx, actor, "plan."+decision, runID, held, nil, "")
}

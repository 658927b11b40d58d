package admin

import (
	"context"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/natsapi"
)

// SetHold deactivates an account locally (ref: its local name, or
// domain/external_id): the sync never re-enables it until the hold is
// lifted. account-writer records the actor with the account.
func (o *Ops) SetHold(ctx context.Context, actor events.Actor, ref, reason string) (events.Account, error) {
	if reason == "" {
		return events.Account{}, Fail(Invalid, "say why: a reason is required")
	}
	return o.holdOp(ctx, actor, "account.hold", natsapi.SubjectAccountsDeactivate, natsapi.AccountRequest{Ref: ref, Reason: reason, By: actor.String()})
}

// LiftHold lifts a local hold: the account takes the directory's state.
func (o *Ops) LiftHold(ctx context.Context, actor events.Actor, ref string) (events.Account, error) {
	return o.holdOp(ctx, actor, "account.release", natsapi.SubjectAccountsReactivate, natsapi.AccountRequest{Ref: ref, By: actor.String()})
}

func (o *Ops) holdOp(ctx context.Context, actor events.Actor, action, subject string, req natsapi.AccountRequest) (events.Account, error) {
	before, err := natsapi.Request[events.Account](ctx, o.NC, natsapi.SubjectAccountsGet, "account-writer", natsapi.AccountRequest{Ref: req.Ref})
	if err != nil {
		return before, err
	}
	a, err := natsapi.Request[events.Account](ctx, o.NC, subject, "account-writer", req)
	if err != nil {
		return a, err
	}
	return a, o.record(ctx, actor, action, a.Domain+"/"+a.ExternalID, before, a, req.Reason)
}

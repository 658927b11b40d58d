package admin

import (
	"context"
	"slices"
	"strings"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/settings"
)

// SetSSO switches a kind of single sign-on (saml, oidc) on or off.
// Enabling is refused while enabled AD Sync Jobs exist, since the two
// would fight over the same accounts, unless force disables them first;
// it returns the jobs it disabled.
func (o *Ops) SetSSO(ctx context.Context, actor events.Actor, kind string, enabled, force bool) ([]string, error) {
	kind = strings.ToLower(kind)
	if !slices.Contains(settings.SSOKinds, kind) {
		return nil, Fail(Invalid, "single sign-on %q: use saml or oidc", kind)
	}
	before, err := o.Settings.SSO(ctx)
	if err != nil {
		return nil, err
	}
	var disabled []string
	if enabled {
		list, err := o.Jobs.List(ctx)
		if err != nil {
			return nil, err
		}
		var on []string
		for _, j := range list {
			if j.Enabled {
				on = append(on, j.Name)
			}
		}
		if len(on) > 0 && !force {
			return nil, Fail(Conflict, "refusing to enable %s: enabled AD Sync Jobs exist (%s). Running both breaks sign-on and needs a reset: disable the jobs first, or force it to disable them now",
				settings.SSOName(kind), strings.Join(on, ", "))
		}
		for _, name := range on {
			if _, err := o.SetJobEnabled(ctx, actor, name, false); err != nil {
				return disabled, err
			}
			disabled = append(disabled, name)
		}
	}
	if err := o.Settings.SetSSO(ctx, kind, enabled, o.Clock()); err != nil {
		return disabled, err
	}
	after, err := o.Settings.SSO(ctx)
	if err != nil {
		return disabled, err
	}
	action, detail := "sso.disable", ""
	if enabled {
		action = "sso.enable"
		if len(disabled) > 0 {
			detail = "forced: disabled the AD Sync Jobs " + strings.Join(disabled, ", ")
		}
	}
	return disabled, o.record(ctx, actor, action, kind, before[kind], after[kind], detail)
}

// RestoreSSO sets a single sign-on switch from an export, as it was
// exported (`adsync job import`).
func (o *Ops) RestoreSSO(ctx context.Context, actor events.Actor, kind string, enabled bool) error {
	before, err := o.Settings.SSO(ctx)
	if err != nil {
		return err
	}
	if err := o.Settings.SetSSO(ctx, kind, enabled, o.Clock()); err != nil {
		return err
	}
	after, err := o.Settings.SSO(ctx)
	if err != nil {
		return err
	}
	return o.record(ctx, actor, "sso.import", kind, before[kind], after[kind], "restored from an export")
}

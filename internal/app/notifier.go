package app

import (
	"context"
	"log/slog"

	"github.com/adsync/adsync/internal/config"
	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/services/notifier"
)

// newNotifier builds the notifier from notify.* (channels with their
// secrets read now).
func newNotifier(ctx context.Context, cfg *config.File, o Options, b *bus.Bus, st *Stores, log *slog.Logger) (*notifier.Service, error) {
	channels, err := cfg.NotifyChannels(o.Env)
	if err != nil {
		return nil, err
	}
	alerts, err := b.KVOrCreate(ctx, bus.BucketAlerts)
	if err != nil {
		return nil, err
	}
	var rules []notifier.Rule
	for _, r := range cfg.Notify.Rules {
		rules = append(rules, notifier.Rule{Kinds: r.Events, Jobs: r.Jobs, Channels: r.Channels})
	}
	return notifier.New(notifier.Config{Rules: rules, Channels: channels, ConsoleURL: cfg.ConsoleURL(),
		StaleAfter: cfg.Notify.StaleAfter.D(), CheckEvery: cfg.NotifyCheckEvery(), Now: o.Now},
		notifier.Stores{Jobs: st.Jobs, Holds: st.Holds, Alerts: alerts}, b, b.JS, log), nil
}

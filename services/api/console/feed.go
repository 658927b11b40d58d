package console

import (
	"context"
	"errors"
	"slices"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/infra/bus"
)

// feedWindow is how many of a domain's newest feed events an account's
// page looks through for its changes: the feed has no index by account,
// and a page must come quickly.
const feedWindow = 20000

// recentChanges returns an account's changes among the newest feedWindow
// events of its domain's feed, newest first, at most n.
func (c *Console) recentChanges(ctx context.Context, domain, id string, n int) ([]events.AccountChanged, error) {
	st, err := c.cfg.Ops.JS.Stream(ctx, bus.StreamAccounts)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	state := st.CachedInfo().State
	if state.Msgs == 0 {
		return nil, nil
	}
	start := state.FirstSeq
	if state.LastSeq > feedWindow && state.LastSeq-feedWindow > start {
		start = state.LastSeq - feedWindow
	}
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{events.FeedSubject(domain)},
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: start})
	if err != nil {
		return nil, err
	}
	var out []events.AccountChanged
	err = bus.ReadToEnd(ctx, cons, 1000, func(m jetstream.Msg) {
		var ev events.AccountChanged
		if json.Unmarshal(m.Data(), &ev) == nil && ev.Account.ExternalID == id {
			out = append(out, ev)
		}
	})
	if err != nil {
		return nil, err
	}
	slices.Reverse(out)
	return out[:min(n, len(out))], nil
}

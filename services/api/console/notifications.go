package console

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/alerts"
	"github.com/adsync/adsync/internal/infra/bus"
)

// notificationsView is the Notifications page: the open alerts and the
// latest delivery failures.
type notificationsView struct {
	Open     []alerts.Open
	Failures []events.NotificationFailed
}

// notificationsPage shows what the notifier has open and what it could not
// deliver lately.
func (c *Console) notificationsPage(w http.ResponseWriter, r *http.Request) {
	var v notificationsView
	if c.cfg.Alerts != nil {
		if err := c.readOpenAlerts(r.Context(), &v); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	if err := c.readFailures(r.Context(), &v, 50); err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "notifications", "Notifications", v)
}

func (c *Console) readOpenAlerts(ctx context.Context, v *notificationsView) error {
	open, err := alerts.List(ctx, c.cfg.Alerts)
	v.Open = open
	return err
}

// readFailures reads the newest failed deliveries, at most n, scanning the
// stream back from its end.
func (c *Console) readFailures(ctx context.Context, v *notificationsView, n int) error {
	st, err := c.cfg.Ops.JS.Stream(ctx, bus.StreamNotify)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	failed := events.SubjectOf((events.NotificationFailed{}).EventName())
	_, err = bus.EachNewest(ctx, st, 0, 2000, func(m *jetstream.RawStreamMsg) bool {
		var f events.NotificationFailed
		if strings.EqualFold(m.Subject, failed) && json.Unmarshal(m.Data, &f) == nil {
			v.Failures = append(v.Failures, f)
		}
		return len(v.Failures) < n
	})
	return err
}

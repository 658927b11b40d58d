package notifier

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/internal/infra/metrics"
	"github.com/adsync/adsync/internal/notify"
)

// maxBackoff is the longest wait between two deliveries of an alert.
const maxBackoff = 5 * time.Minute

// backoff doubles from a second, at most maxBackoff.
func backoff(attempt int) time.Duration {
	d := time.Second
	for i := 1; i < attempt && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

// HandleDeliver sends one notification on its channel. A receiver that is
// down is tried again with back-off, for as long as it takes; a refusal
// that no retry changes (a 4xx answer, an unknown channel) is
// dead-lettered, where the console and deadletter.added show it.
func (s *Service) HandleDeliver(ctx context.Context, n *events.NotificationRequested) error {
	ch := s.channel(n.Channel)
	if ch == nil {
		metrics.Notifications.WithLabelValues(n.Channel, "refused").Inc()
		return bus.Reject(fmt.Errorf("notification %s: channel %q is not in notify.channels (any more)", n.ID, n.Channel))
	}
	sendCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	err := ch.Send(sendCtx, n)
	switch {
	case err == nil:
		metrics.Notifications.WithLabelValues(n.Channel, "sent").Inc()
		bus.Logger(ctx).Info("notification sent", "channel", n.Channel, "kind", n.Kind, "state", n.State, "id", n.ID)
		return nil
	}
	attempt := bus.DeliveryFrom(ctx).Attempt
	f := &events.NotificationFailed{ID: n.ID, Channel: n.Channel, Kind: n.Kind, State: n.State, Attempt: attempt, Error: err.Error(),
		At: s.cfg.Now().UTC().Format(time.RFC3339)}
	if errors.Is(err, notify.ErrRefused) {
		metrics.Notifications.WithLabelValues(n.Channel, "refused").Inc()
		f.Refused = true
		s.reportFailure(ctx, f)
		return bus.Reject(err)
	}
	metrics.Notifications.WithLabelValues(n.Channel, "retry").Inc()
	f.RetryIn = backoff(attempt).String()
	s.reportFailure(ctx, f)
	return bus.RetryAfter(backoff(attempt), fmt.Errorf("notification %s on %s (attempt %d): %w", n.ID, n.Channel, attempt, err))
}

// reportFailure publishes a failed delivery for watch and the console;
// losing the report loses no alert, so its own failure is only logged.
func (s *Service) reportFailure(ctx context.Context, f *events.NotificationFailed) {
	if err := s.pub.Publish(ctx, f); err != nil {
		bus.Logger(ctx).Warn("could not report a failed delivery", "id", f.ID, "channel", f.Channel, "err", err)
	}
}

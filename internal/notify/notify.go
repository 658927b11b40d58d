// Package notify delivers alerts: the channels of notify.channels (a
// signed webhook, e-mail over SMTP) and what they send. The notifier
// service decides what to send (services/notifier); this package only
// sends.
package notify

import (
	"context"
	"errors"
	"fmt"

	"github.com/adsync/adsync/events"
)

// Channel sends a notification somewhere.
type Channel interface {
	Name() string
	// Send delivers one notification. An error wrapping ErrRefused is a
	// refusal that a retry will not change (a 4xx answer, a rejected
	// address); any other error is worth retrying.
	Send(ctx context.Context, n *events.NotificationRequested) error
}

// ErrRefused marks a delivery the receiver refused for good.
var ErrRefused = errors.New("refused by the receiver")

func refused(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrRefused, fmt.Sprintf(format, a...))
}

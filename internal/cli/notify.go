package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/notify"
)

func (c *cli) notifyCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "notify", Short: "Alerts: send a test message on a channel of notify.channels"}
	cmd.AddCommand(&cobra.Command{
		Use:   "test CHANNEL",
		Short: "Send a test message on a channel now (directly, not through the delivery queue) and say whether it arrived",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := c.loadConfig()
			if err != nil {
				return err
			}
			channels, err := cfg.NotifyChannels(c.env.LookupEnv)
			if err != nil {
				return err
			}
			var ch notify.Channel
			var names []string
			for _, x := range channels {
				names = append(names, x.Name())
				if x.Name() == args[0] {
					ch = x
				}
			}
			if ch == nil {
				return fmt.Errorf("channel %q is not in notify.channels of %s (configured: %s)", args[0], cfg.Path(), strings.Join(names, ", "))
			}
			now := c.env.Now().UTC()
			n := &events.NotificationRequested{ID: "test:" + now.Format("20060102T150405Z"), Channel: ch.Name(), Kind: events.AlertTest,
				State: events.AlertFiring, Title: "test message from adsync", Link: cfg.ConsoleURL(), At: now.Format(time.RFC3339),
				Text: "This is a test of the notification channel " + ch.Name() + ". When a sync is held, fails or goes stale, adsync tells you here."}
			ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
			defer cancel()
			if err := ch.Send(ctx, n); err != nil {
				return fmt.Errorf("test message on %s: %w", ch.Name(), err)
			}
			c.out("test message sent on %s\n", ch.Name())
			return nil
		},
	})
	return cmd
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"
	"github.com/spf13/cobra"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/infra/bus"
)

func (c *cli) accountsFeedCmd() *cobra.Command {
	var (
		from   int64
		domain string
		count  int
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "feed",
		Short: "Follow the account change feed: every change to an account, in commit order (Ctrl-C to stop)",
		Long: `Follows the account change feed (stream ADSYNC_ACCOUNTS). Each change carries its
sequence number; --from SEQ starts at that change (1: everything the feed still holds),
by default the next change to come. A snapshot of the accounts says up to which change
it is current (feed_seq): follow from feed_seq+1 to miss nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withOps(cmd.Context(), func(ctx context.Context, s *session) error {
				start, err := s.bus.FeedStart(ctx, from)
				if err != nil {
					return err
				}
				subject := events.FeedSubject("*")
				if domain != "" {
					subject = events.FeedSubject(domain)
				}
				cons, err := s.bus.JS.OrderedConsumer(ctx, bus.StreamAccounts, jetstream.OrderedConsumerConfig{
					FilterSubjects: []string{subject}, DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: start,
				})
				if err != nil {
					return fmt.Errorf("follow the account feed: %w", err)
				}
				msgs, err := cons.Messages()
				if err != nil {
					return fmt.Errorf("follow the account feed: %w", err)
				}
				defer msgs.Stop()
				stop := context.AfterFunc(ctx, msgs.Stop)
				defer stop()
				if c.env.Ready != nil {
					c.env.Ready()
				}
				for n := 0; count == 0 || n < count; n++ {
					m, err := msgs.Next()
					if err != nil {
						if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
							return nil
						}
						return fmt.Errorf("follow the account feed: %w", err)
					}
					if asJSON {
						fmt.Fprintln(c.env.Stdout, string(m.Data()))
						continue
					}
					var ev events.AccountChanged
					if err := json.Unmarshal(m.Data(), &ev); err != nil {
						return fmt.Errorf("account feed: unreadable change: %w", err)
					}
					c.out("%d\t%s\t%s\t%s\t%s\n", ev.Seq, ev.At.Local().Format("2006-01-02 15:04:05"), ev.Change, ev.Account.LocalName, describeChange(ev))
				}
				return nil
			})
		},
	}
	cmd.Flags().Int64Var(&from, "from", 0, "start at this change (1: everything the feed holds); default: the next one")
	cmd.Flags().StringVar(&domain, "domain", "", "only this domain's changes")
	cmd.Flags().IntVar(&count, "count", 0, "stop after this many changes (0: follow until Ctrl-C)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "one account.changed.v1 event (JSON) per line")
	return cmd
}

// describeChange says what a change did, in a few words.
func describeChange(ev events.AccountChanged) string {
	var parts []string
	if ev.Reason != "" {
		parts = append(parts, ev.Reason)
	}
	if len(ev.Fields) > 0 {
		parts = append(parts, "fields "+strings.Join(ev.Fields, ","))
	}
	if len(ev.Joined) > 0 {
		parts = append(parts, "joined "+strings.Join(ev.Joined, ","))
	}
	if len(ev.Left) > 0 {
		parts = append(parts, "left "+strings.Join(ev.Left, ","))
	}
	if ev.Actor != "" && ev.Actor != "sync" {
		parts = append(parts, "by "+ev.Actor)
	}
	return orDash(strings.Join(parts, "; "))
}

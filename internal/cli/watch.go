package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/segmentio/encoding/json"
	"github.com/spf13/cobra"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/infra/bus"
)

func (c *cli) watchCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Print every pipeline event as it happens (Ctrl-C to stop)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withOps(cmd.Context(), func(ctx context.Context, s *session) error {
				msgs := make(chan *nats.Msg, 4096)
				sub, err := s.bus.NC.ChanSubscribe(events.SubjectPrefix+">", msgs)
				if err != nil {
					return err
				}
				defer sub.Unsubscribe()
				if err := s.bus.NC.Flush(); err != nil {
					return fmt.Errorf("watch: %w", err)
				}
				if c.env.Ready != nil {
					c.env.Ready()
				}
				if !asJSON {
					fmt.Fprintln(c.env.Stderr, "watching adsync events (Ctrl-C to stop)")
				}
				for {
					select {
					case <-ctx.Done():
						return nil
					case m := <-msgs:
						name := bus.NameFromSubject(m.Subject)
						if strings.HasPrefix(name, "api.") {
							continue
						}
						if asJSON {
							out := map[string]any{"subject": m.Subject, "name": name, "time": c.env.Now().UTC().Format(time.RFC3339Nano)}
							var ev map[string]any
							if json.Unmarshal(m.Data, &ev) == nil {
								// Tools filter on these without digging into the event.
								for _, k := range []string{"run_id", "job", "domain"} {
									if v, ok := ev[k]; ok {
										out[k] = v
									}
								}
								if entries, ok := ev["entries"].([]any); ok {
									ev["entries"] = len(entries) // pages are summarised, not dumped
								}
								out["event"] = ev
							}
							raw, _ := json.Marshal(out)
							fmt.Fprintln(c.env.Stdout, string(raw))
							continue
						}
						fmt.Fprintf(c.env.Stdout, "%s %s\n", c.env.Now().Format("15:04:05.000"), describe(name, m.Data))
					}
				}
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per line")
	return cmd
}

// describe renders one event as a human-readable line.
func describe(name string, data []byte) string {
	var run events.Run
	_ = json.Unmarshal(data, &run)
	head := fmt.Sprintf("%-22s run=%s job=%s", name, run.RunID, run.Job)
	switch name {
	case (events.SyncRequested{}).EventName():
		return fmt.Sprintf("%s trigger=%s", head, run.Trigger)
	case (events.SyncApproved{}).EventName():
		var e events.SyncApproved
		_ = json.Unmarshal(data, &e)
		return fmt.Sprintf("%s domains=%s", head, strings.Join(e.Domains, ","))
	case (events.SyncRejected{}).EventName():
		var e events.SyncRejected
		_ = json.Unmarshal(data, &e)
		return fmt.Sprintf("%s reasons=%q", head, strings.Join(e.Reasons, "; "))
	case (events.DirectoryPage{}).EventName():
		var e events.DirectoryPage
		_ = json.Unmarshal(data, &e)
		return fmt.Sprintf("%s domain=%s attempt=%d page=%d entries=%d", head, e.Domain, e.Attempt, e.Seq, len(e.Entries))
	case (events.DirectoryCompleted{}).EventName():
		var e events.DirectoryCompleted
		_ = json.Unmarshal(data, &e)
		return fmt.Sprintf("%s domain=%s attempt=%d pages=%d entries=%d skipped=%d", head, e.Domain, e.Attempt, e.Pages, e.Entries, e.Skipped)
	case (events.DirectoryFailed{}).EventName():
		var e events.DirectoryFailed
		_ = json.Unmarshal(data, &e)
		retry := "final"
		if e.WillRetry {
			retry = fmt.Sprintf("retry in %s (attempt %d of %d)", e.RetryIn, e.Attempt, e.MaxAttempts)
		}
		return fmt.Sprintf("%s domain=%s attempt=%d %s reason=%q", head, e.Domain, e.Attempt, retry, e.Reason)
	case (events.AccountChanges{}).EventName():
		var e events.AccountChanges
		_ = json.Unmarshal(data, &e)
		var c events.Counts
		for _, ch := range e.Changes {
			c = c.Add(events.CountOp(ch.Op))
		}
		return fmt.Sprintf("%s domain=%s batch=%s %s", head, e.Domain, e.Batch, countsText(c))
	case (events.ChangesCompleted{}).EventName():
		var e events.ChangesCompleted
		_ = json.Unmarshal(data, &e)
		return fmt.Sprintf("%s domain=%s outcome=%s batches=%d", head, e.Domain, e.Outcome, e.Batches)
	case (events.SyncCompleted{}).EventName():
		var e events.SyncCompleted
		_ = json.Unmarshal(data, &e)
		return fmt.Sprintf("%s outcome=%s %s", head, e.Outcome, countsText(e.Totals))
	case (events.NotificationRequested{}).EventName():
		var e events.NotificationRequested
		_ = json.Unmarshal(data, &e)
		return fmt.Sprintf("%-22s %s %s channel=%s job=%s domain=%s", name, e.Kind, e.State, e.Channel, e.Job, e.Domain)
	case (events.NotificationFailed{}).EventName():
		var e events.NotificationFailed
		_ = json.Unmarshal(data, &e)
		next := "retry in " + e.RetryIn
		if e.Refused {
			next = "refused: dead-lettered"
		}
		return fmt.Sprintf("%-22s %s %s channel=%s attempt=%d %s error=%q", name, e.Kind, e.State, e.Channel, e.Attempt, next, e.Error)
	}
	return head
}

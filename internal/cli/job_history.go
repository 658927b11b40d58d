package cli

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/segmentio/encoding/json"
	"github.com/spf13/cobra"

	"github.com/adsync/adsync/internal/runs"
)

func (c *cli) jobHistoryCmd() *cobra.Command {
	var (
		asJSON  bool
		limit   int
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "history NAME",
		Short: "List a job's runs, newest first: trigger, attempts, start, end, outcome, counts",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			return c.withOps(ctx, func(ctx context.Context, s *session) error {
				list, err := runs.History(ctx, s.bus.JS, args[0])
				if errors.Is(err, context.DeadlineExceeded) {
					return fmt.Errorf("job history: no complete answer from NATS within %s (is a JetStream server of the cluster down? try again, or raise --timeout): %w", timeout, err)
				}
				if err != nil {
					return err
				}
				if limit > 0 && len(list) > limit {
					list = list[:limit]
				}
				if asJSON {
					return json.NewEncoder(c.env.Stdout).Encode(list)
				}
				tw := tabwriter.NewWriter(c.env.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "RUN\tTRIGGER\tATTEMPTS\tSTARTED\tFINISHED\tOUTCOME\tCREATED\tUPDATED\tDEACTIVATED\tREACTIVATED\tUNCHANGED")
				for _, r := range list {
					fin := "-"
					if r.FinishedAt != nil {
						fin = r.FinishedAt.UTC().Format(time.RFC3339)
					}
					trigger := string(r.Trigger)
					if r.Attempts > 1 {
						trigger += "+requeue"
					}
					fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\n", r.RunID, trigger, r.Attempts,
						r.RequestedAt.UTC().Format(time.RFC3339), fin, r.Outcome,
						r.Totals.Created, r.Totals.Updated, r.Totals.Deactivated, r.Totals.Reactivated, r.Totals.Unchanged)
					for _, d := range r.Domains { // each domain's own outcome and counts, under its run
						fmt.Fprintf(tw, "  domain %s\t\t%d\t\t\t%s\t%d\t%d\t%d\t%d\t%d\n", d.Domain, d.Attempts, d.Outcome,
							d.Created, d.Updated, d.Deactivated, d.Reactivated, d.Unchanged)
					}
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				for _, r := range list {
					for _, f := range r.Failures {
						next := "final"
						if f.WillRetry {
							next = "requeued, next attempt in " + f.RetryIn
						}
						fmt.Fprintf(c.env.Stdout, "%s: domain %s attempt %d (%s) failed: %s — %s\n", r.RunID, f.Domain, f.Attempt, f.Trigger, f.Reason, next)
					}
					for _, reason := range r.Reasons {
						fmt.Fprintf(c.env.Stdout, "%s: %s\n", r.RunID, reason)
					}
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON array")
	cmd.Flags().IntVar(&limit, "limit", 50, "show at most this many list (0: all that are kept)")
	cmd.Flags().DurationVar(&timeout, "timeout", time.Minute, "give up when NATS has not answered in full by then")
	return cmd
}

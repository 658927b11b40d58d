package cli

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/segmentio/encoding/json"
	"github.com/spf13/cobra"

	"github.com/adsync/adsync/internal/audit"
)

func (c *cli) auditCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "The audit log: every change made through the API, the console or the command line"}
	var (
		asJSON bool
		q      audit.Query
	)
	list := &cobra.Command{
		Use:   "list",
		Short: "List audit records, newest first: when, who, what, which object",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withOps(cmd.Context(), func(ctx context.Context, s *session) error {
				entries, _, err := audit.List(ctx, s.bus.JS, q)
				if err != nil {
					return err
				}
				if asJSON {
					return json.NewEncoder(c.env.Stdout).Encode(entries)
				}
				if len(entries) == 0 {
					c.out("no audit records\n")
					return nil
				}
				tw := tabwriter.NewWriter(c.env.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "SEQ\tAT\tACTOR\tACTION\tTARGET\tDETAIL")
				for _, e := range entries {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.At.Format(time.RFC3339), e.Actor, e.Action, e.Target, orDash(e.Detail))
				}
				return tw.Flush()
			})
		},
	}
	f := list.Flags()
	f.BoolVar(&asJSON, "json", false, "print one JSON array (with each object before and after)")
	f.IntVar(&q.Limit, "limit", 100, "at most this many records (up to 1000)")
	f.Uint64Var(&q.Before, "before", 0, "only records older than this SEQ (page on)")
	f.StringVar(&q.Actor, "actor", "", "only this actor (kind:name, or the name)")
	f.StringVar(&q.Action, "action", "", "only this action, e.g. job.update")
	f.StringVar(&q.Target, "target", "", "only this object, e.g. a job's name")
	cmd.AddCommand(list)
	return cmd
}

package cli

import (
	"context"
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/segmentio/encoding/json"
	"github.com/spf13/cobra"

	"github.com/adsync/adsync/internal/admin"
)

func (c *cli) deadletterCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "deadletter", Short: "Messages that could not be processed: list, show, replay, purge"}
	var asJSON, all bool
	list := &cobra.Command{
		Use: "list", Short: "List dead letters with their reason, subject and consumer", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withOps(cmd.Context(), func(ctx context.Context, s *session) error {
				out, err := s.ops.DeadLetters(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return json.NewEncoder(c.env.Stdout).Encode(out)
				}
				if len(out) == 0 {
					c.out("no dead letters\n")
					return nil
				}
				tw := tabwriter.NewWriter(c.env.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "SEQ\tAT\tSUBJECT\tCONSUMER\tDELIVERIES\tREASON")
				for _, d := range out {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", d.Seq, d.At, d.Subject, d.Consumer, d.Deliveries, d.Reason)
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print one JSON array")
	show := &cobra.Command{
		Use: "show SEQ", Short: "Show one dead letter whole (headers and payload)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			seqs, err := parseSeqs(args)
			if err != nil {
				return err
			}
			return c.withOps(cmd.Context(), func(ctx context.Context, s *session) error {
				d, err := s.ops.DeadLetter(ctx, seqs[0])
				if err != nil {
					return err
				}
				enc := json.NewEncoder(c.env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(d)
			})
		},
	}
	replay := &cobra.Command{
		Use: "replay (SEQ... | --all)", Short: "Publish dead letters again on their subject (handlers apply each once), then remove them",
		RunE: func(cmd *cobra.Command, args []string) error {
			seqs, err := selectSeqs(args, all)
			if err != nil {
				return err
			}
			return c.withOps(cmd.Context(), func(ctx context.Context, s *session) error {
				return s.ops.ReplayDeadLetters(ctx, s.actor, seqs, func(d admin.DeadLetter) { c.out("replayed %d on %s\n", d.Seq, d.Subject) })
			})
		},
	}
	replay.Flags().BoolVar(&all, "all", false, "every dead letter")
	purge := &cobra.Command{
		Use: "purge (SEQ... | --all)", Short: "Remove dead letters for good",
		RunE: func(cmd *cobra.Command, args []string) error {
			seqs, err := selectSeqs(args, all)
			if err != nil {
				return err
			}
			return c.withOps(cmd.Context(), func(ctx context.Context, s *session) error {
				return s.ops.PurgeDeadLetters(ctx, s.actor, seqs, func(d admin.DeadLetter) { c.out("purged %d\n", d.Seq) })
			})
		},
	}
	purge.Flags().BoolVar(&all, "all", false, "every dead letter")
	cmd.AddCommand(list, show, replay, purge)
	return cmd
}

// selectSeqs reads the dead letters named, or none for --all (every one).
func selectSeqs(args []string, all bool) ([]uint64, error) {
	if all {
		if len(args) > 0 {
			return nil, fmt.Errorf("name dead letters or pass --all, not both")
		}
		return nil, nil
	}
	if len(args) == 0 {
		return nil, fmt.Errorf("name the dead letters (SEQ from `adsync deadletter list`) or pass --all")
	}
	return parseSeqs(args)
}

func parseSeqs(args []string) ([]uint64, error) {
	out := make([]uint64, 0, len(args))
	for _, a := range args {
		seq, err := strconv.ParseUint(a, 10, 64)
		if err != nil || seq == 0 {
			return nil, fmt.Errorf("SEQ %q: a number from `adsync deadletter list`", a)
		}
		out = append(out, seq)
	}
	return out, nil
}

package cli

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"
	"github.com/spf13/cobra"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/internal/natsapi"
	"github.com/adsync/adsync/services/account-writer/accounts"
)

// runSubcommands inspect a run, and approve or discard a plan held by the
// deletion guard (`adsync run show|held|approve|discard`).
func (c *cli) runSubcommands() []*cobra.Command {
	return []*cobra.Command{c.runShowCmd(), c.runHeldCmd(), c.runDecideCmd(events.DecisionApprove), c.runDecideCmd(events.DecisionDiscard)}
}

// fetchReport reads a run's whole report, page by page.
func (c *cli) fetchReport(ctx context.Context, s *session, runID string) (*accounts.RunReport, error) {
	var all *accounts.RunReport
	req := natsapi.RunReportRequest{RunID: runID, Limit: 2000}
	for {
		rep, err := natsapi.Request[*accounts.RunReport](ctx, s.bus.NC, natsapi.SubjectRunReport, "account-writer", req)
		if err != nil {
			return nil, err
		}
		if all == nil {
			all = rep
		} else {
			all.Changes = append(all.Changes, rep.Changes...)
		}
		if rep.Next == 0 {
			return all, nil
		}
		req.After = rep.Next
	}
}

// printTruncated says, per domain, how many changes a report does not list
// because its run reached accounts.report_max_rows.
func printTruncated(w io.Writer, byDomain map[string]int, indent string) {
	domains := slices.Sorted(maps.Keys(byDomain))
	for _, d := range domains {
		fmt.Fprintf(w, "%sdomain %s: %d more account changes are not listed: the report reached accounts.report_max_rows (the counts are exact; failures are always listed)\n",
			indent, d, byDomain[d])
	}
}

func (c *cli) runShowCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show RUN",
		Short: "Every account a run changed (or planned, or held), with the change, the reason and the result; failures listed one by one",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withOps(cmd.Context(), func(ctx context.Context, s *session) error {
				rep, err := c.fetchReport(ctx, s, args[0])
				if err != nil {
					return err
				}
				if len(rep.Domains) == 0 {
					return fmt.Errorf("run %s: account-writer has no report of it (unknown, still going, rejected, or older than accounts.report_retention)", args[0])
				}
				if asJSON {
					return json.NewEncoder(c.env.Stdout).Encode(rep)
				}
				sum := RunSummary{RunID: args[0], Domains: rep.Domains}
				if rep.Run != nil {
					sum.Job, sum.Trigger = rep.Run.Job, rep.Run.Trigger
				}
				for _, d := range rep.Domains {
					sum.Totals = sum.Totals.Add(d.Counts)
				}
				sum.Outcome = "report"
				printSummary(c.env.Stdout, sum)
				tw := tabwriter.NewWriter(c.env.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "\nDOMAIN\tACCOUNT\tCHANGE\tFIELDS\tREASON\tRESULT\tERROR")
				for _, ch := range rep.Changes {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ch.Domain, orDefault(ch.LocalName, ch.ExternalID), ch.Op,
						orDash(strings.Join(ch.Fields, ",")), orDash(ch.Reason), ch.Result, orDash(ch.Error))
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				printTruncated(c.env.Stdout, rep.TruncatedByDomain, "")
				for d, sk := range rep.Skipped {
					for _, e := range sk {
						fmt.Fprintf(c.env.Stdout, "%s: not synced: %s — %s\n", d, e.DN, e.Reason)
					}
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}

func (c *cli) runHeldCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "held",
		Short: "List the plans held by the deletion guard",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withOps(cmd.Context(), func(ctx context.Context, s *session) error {
				list, err := s.stores.Holds.List(ctx)
				if err != nil {
					return err
				}
				if len(list) == 0 {
					c.out("no held plans\n")
				}
				for _, p := range list {
					c.out("run %s (job %s), domain %s, held %s: %s\n", p.RunID, p.Job, p.Domain, p.At.Format(time.RFC3339), strings.Join(p.Hold.Reasons, "; "))
				}
				return nil
			})
		},
	}
}

func (c *cli) runDecideCmd(decision string) *cobra.Command {
	var domain string
	verb := map[string]string{events.DecisionApprove: "Apply", events.DecisionDiscard: "Drop"}[decision]
	cmd := &cobra.Command{
		Use:   decision + " RUN",
		Short: verb + " a run's held plan (exactly the plan that was held, not a new read)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withOps(cmd.Context(), func(ctx context.Context, s *session) error {
				// Follow before deciding, so that no outcome is missed.
				msgs, err := c.followSubject(ctx, s, (events.PlanApplied{}).EventName())
				if err != nil {
					return err
				}
				defer msgs.Stop()
				decisions, err := s.ops.DecidePlan(ctx, s.actor, args[0], domain, decision)
				if err != nil {
					return err
				}
				waitCtx, cancel := context.WithTimeout(ctx, 10*time.Minute)
				defer cancel()
				stop := context.AfterFunc(waitCtx, msgs.Stop)
				defer stop()
				for pending := len(decisions); pending > 0; {
					m, err := msgs.Next()
					if err != nil {
						return fmt.Errorf("waiting for account-writer: %w", err)
					}
					var a events.PlanApplied
					if json.Unmarshal(m.Data(), &a) != nil || a.RunID != args[0] {
						continue
					}
					pending--
					if a.Decision == events.DecisionApprove {
						c.out("domain %s: held plan applied — %s; %d failed\n", a.Domain, countsText(a.Counts), a.Failed)
					} else {
						c.out("domain %s: held plan discarded; nothing was changed\n", a.Domain)
					}
				}
				// diff lifts the hold once its record matches the decision;
				// then the domain's next run may start.
				for _, d := range decisions {
					for {
						p, err := s.stores.Holds.Get(waitCtx, d.Domain)
						if err != nil {
							return err
						}
						if p == nil || p.RunID != d.RunID {
							break
						}
						select {
						case <-waitCtx.Done():
							return fmt.Errorf("domain %s: the hold was not lifted: is diff running?", d.Domain)
						case <-time.After(50 * time.Millisecond):
						}
					}
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&domain, "domain", "", "only this domain's plan")
	return cmd
}

// followSubject follows new events of one kind on the control stream.
func (c *cli) followSubject(ctx context.Context, s *session, name string) (jetstream.MessagesContext, error) {
	cons, err := s.bus.JS.OrderedConsumer(ctx, bus.StreamControl, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{events.SubjectOf(name)}, DeliverPolicy: jetstream.DeliverNewPolicy,
	})
	if err != nil {
		return nil, err
	}
	return cons.Messages()
}

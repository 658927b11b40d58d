package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/segmentio/encoding/json"
	"github.com/spf13/cobra"

	"github.com/adsync/adsync/internal/admin"
)

func (c *cli) jobCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "job", Short: "Create, run and inspect AD Sync Jobs"}
	cmd.AddCommand(c.jobCreateCmd(), c.jobListCmd(), c.jobShowCmd(), c.jobRunCmd(), c.jobHistoryCmd(),
		c.jobSwitchCmd("enable", true), c.jobSwitchCmd("disable", false), c.jobDeleteCmd(),
		c.jobUpdateCmd(), c.jobExportCmd(), c.jobImportCmd())
	return cmd
}

func (c *cli) jobListCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List AD Sync Jobs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withOps(cmd.Context(), func(ctx context.Context, s *session) error {
				list, err := s.ops.ViewJobs(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return json.NewEncoder(c.env.Stdout).Encode(list)
				}
				tw := tabwriter.NewWriter(c.env.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tENABLED\tDOMAINS\tSCHEDULE\tREQUEUE\tNEXT RUN")
				for _, j := range list {
					v := view(j)
					fmt.Fprintf(tw, "%s\t%v\t%s\t%s\t%s\t%s\n", v.Name, v.Enabled, v.DomainsText, v.ScheduleText, v.RequeueText, orDash(v.NextRun))
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON array")
	return cmd
}

func (c *cli) jobShowCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a job and its next run time",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withOps(cmd.Context(), func(ctx context.Context, s *session) error {
				j, _, err := s.stores.Jobs.Get(ctx, args[0])
				if err != nil {
					return err
				}
				v := s.ops.ViewJob(ctx, j)
				if asJSON {
					return json.NewEncoder(c.env.Stdout).Encode(v)
				}
				c.printJob(v)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (c *cli) jobSwitchCmd(verb string, enabled bool) *cobra.Command {
	return &cobra.Command{
		Use:   verb + " NAME",
		Short: strings.ToUpper(verb[:1]) + verb[1:] + " a job",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withOps(cmd.Context(), func(ctx context.Context, s *session) error {
				if _, err := s.ops.SetJobEnabled(ctx, s.actor, args[0], enabled); err != nil {
					return err
				}
				c.out("job %s %sd\n", args[0], verb)
				return nil
			})
		},
	}
}

func (c *cli) jobDeleteCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a job (its accounts and history stay)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withOps(cmd.Context(), func(ctx context.Context, s *session) error {
				if err := s.ops.DeleteJob(ctx, s.actor, args[0]); err != nil {
					return err
				}
				c.out("job %s deleted\n", args[0])
				return nil
			})
		},
	}
}

// jobView is a job as the command line prints it.
type jobView struct {
	admin.JobView
	DomainsText, ScheduleText, RequeueText string
}

func view(jv admin.JobView) jobView {
	j := jv.Job
	v := jobView{JobView: jv}
	if j.AllDomains {
		v.DomainsText = "all"
	} else {
		v.DomainsText = strings.Join(j.Domains, ",")
	}
	switch {
	case j.Schedule.Every != 0:
		v.ScheduleText = fmt.Sprintf("every %s (%s)", j.Schedule.Every.D(), j.Schedule.RunWhen)
	case j.Schedule.Cron != "":
		v.ScheduleText = fmt.Sprintf("cron %q %s", j.Schedule.Cron, j.Schedule.Zone())
	default:
		v.ScheduleText = "manual"
	}
	if j.Requeue.Enabled {
		v.RequeueText = fmt.Sprintf("%d attempts, %s..%s", j.Requeue.MaxAttempts, j.Requeue.InitialDelay.D(), j.Requeue.MaxDelay.D())
	} else {
		v.RequeueText = "off"
	}
	return v
}

func (c *cli) printJob(jv admin.JobView) {
	v, j := view(jv), jv.Job
	tw := tabwriter.NewWriter(c.env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "name:\t%s\n", j.Name)
	fmt.Fprintf(tw, "enabled:\t%v\n", j.Enabled)
	fmt.Fprintf(tw, "domains:\t%s\n", v.DomainsText)
	fmt.Fprintf(tw, "schedule:\t%s\n", v.ScheduleText)
	fmt.Fprintf(tw, "requeue:\t%s\n", v.RequeueText)
	sp := j.SafetyPolicy()
	fmt.Fprintf(tw, "deletion guard:\thold plans deactivating > %s accounts or > %s of the active ones, or reading > %s fewer users than the last good run\n",
		limitText(sp.MaxDeactivations, ""), limitText(sp.MaxDeactivationPercent, "%"), limitText(sp.MaxResultDropPercent, "%"))
	if j.Groups.BaseDN != "" || j.Groups.Filter != "" {
		fmt.Fprintf(tw, "groups:\tunder %s matching %s\n", orDefault(j.Groups.BaseDN, "(domain)"), orDefault(j.Groups.Filter, "(all)"))
	}
	fmt.Fprintf(tw, "next run:\t%s\n", orDefault(v.NextRun, "none (manual runs only)"))
	fmt.Fprintf(tw, "environment:\t%s\n", j.Environment)
	fmt.Fprintf(tw, "created:\t%s\n", j.CreatedAt.Format(time.RFC3339))
	_ = tw.Flush()
}

func orDash(s string) string { return orDefault(s, "-") }

func limitText(v int, unit string) string {
	if v == 0 {
		return "(off)"
	}
	return fmt.Sprintf("%d%s", v, unit)
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

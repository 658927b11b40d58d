package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/adsync/adsync/internal/bus"
	"github.com/adsync/adsync/internal/jobs"
)

func (c *cli) jobCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "job", Short: "Create, run and inspect AD Sync Jobs"}
	cmd.AddCommand(c.jobCreateCmd(), c.jobListCmd(), c.jobShowCmd(), c.jobRunCmd(), c.jobHistoryCmd(),
		c.jobSwitchCmd("enable", true), c.jobSwitchCmd("disable", false), c.jobDeleteCmd())
	return cmd
}

func (c *cli) jobCreateCmd() *cobra.Command {
	var (
		all                     bool
		domains                 []string
		every                   time.Duration
		runWhen, start          string
		cronExpr, tz            string
		requeue, disabled       bool
		attempts                int
		retryDelay, retryMaxDel time.Duration
	)
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create an AD Sync Job",
		Example: `  adsync job create nightly --all-domains --every 12h --run-when immediately --requeue
  adsync job create corp-only --domain corp --cron "0 2 * * *" --time-zone Europe/Berlin`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			now := c.env.Now().UTC()
			j := &jobs.Job{
				Name: args[0], Enabled: !disabled, AllDomains: all, Domains: domains,
				Schedule:  jobs.Schedule{Every: jobs.Duration(every), RunWhen: runWhen, Cron: cronExpr, TimeZone: tz},
				Requeue:   jobs.Requeue{Enabled: requeue, MaxAttempts: attempts, InitialDelay: jobs.Duration(retryDelay), MaxDelay: jobs.Duration(retryMaxDel)},
				CreatedAt: now, UpdatedAt: now, ScheduleSince: now,
			}
			if every != 0 && runWhen == "" {
				j.Schedule.RunWhen = jobs.RunImmediately
			}
			if start != "" {
				t, err := time.Parse(time.RFC3339, start)
				if err != nil {
					return fmt.Errorf("--start %q: use RFC 3339, e.g. 2026-12-01T02:00:00Z", start)
				}
				j.Schedule.Start = &t
				if runWhen == "" {
					j.Schedule.RunWhen = jobs.RunScheduled
				}
			}
			j.Schedule.SetAnchor(now)
			if err := j.Validate(bus.MaxRequeueAttempts); err != nil {
				return err
			}
			s, err := c.connect(ctx)
			if err != nil {
				return err
			}
			defer s.close()
			for _, d := range domains {
				if _, ok := s.cfg.Domain(d); !ok {
					return fmt.Errorf("--domain %q is not configured in %s (configured: %s)", d, s.cfg.Path(), strings.Join(s.cfg.DomainNames(), ", "))
				}
			}
			if j.Environment, err = s.stores.Settings.Environment(ctx); err != nil {
				return err
			}
			if err := s.stores.Jobs.Create(ctx, j); err != nil {
				return err
			}
			c.out("job %s created\n", j.Name)
			c.printJob(j, time.Time{})
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&all, "all-domains", false, "sync every configured domain, including ones added later")
	f.StringArrayVar(&domains, "domain", nil, "sync this domain (repeatable)")
	f.DurationVar(&every, "every", 0, "time span schedule: run every DURATION (e.g. 12h)")
	f.StringVar(&runWhen, "run-when", "", "with --every: immediately (first run now) or scheduled (first run one span from now, or at --start)")
	f.StringVar(&start, "start", "", "with --every: first run at this time (RFC 3339)")
	f.StringVar(&cronExpr, "cron", "", `calendar schedule, cron syntax (e.g. "0 2 * * *")`)
	f.StringVar(&tz, "time-zone", "", "time zone of --cron (IANA name, default UTC)")
	f.BoolVar(&requeue, "requeue", false, "requeue if the job fails: retry transient failures with a growing back-off")
	f.IntVar(&attempts, "requeue-attempts", jobs.DefaultMaxAttempts, "with --requeue: attempts in all, the first included")
	f.DurationVar(&retryDelay, "requeue-delay", jobs.DefaultInitialDelay, "with --requeue: delay before the second attempt (doubles each time)")
	f.DurationVar(&retryMaxDel, "requeue-max-delay", jobs.DefaultMaxDelay, "with --requeue: longest delay between attempts")
	f.BoolVar(&disabled, "disabled", false, "create the job disabled")
	return cmd
}

func (c *cli) jobListCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List AD Sync Jobs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := c.connect(cmd.Context())
			if err != nil {
				return err
			}
			defer s.close()
			list, err := s.stores.Jobs.List(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				views := make([]jobView, 0, len(list))
				for _, j := range list {
					views = append(views, c.view(j, s.lastFired(cmd.Context(), j.Name)))
				}
				return json.NewEncoder(c.env.Stdout).Encode(views)
			}
			tw := tabwriter.NewWriter(c.env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tENABLED\tDOMAINS\tSCHEDULE\tREQUEUE\tNEXT RUN")
			for _, j := range list {
				v := c.view(j, s.lastFired(cmd.Context(), j.Name))
				fmt.Fprintf(tw, "%s\t%v\t%s\t%s\t%s\t%s\n", v.Name, v.Enabled, v.DomainsText, v.ScheduleText, v.RequeueText, orDash(v.NextRun))
			}
			return tw.Flush()
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
			s, err := c.connect(cmd.Context())
			if err != nil {
				return err
			}
			defer s.close()
			j, _, err := s.stores.Jobs.Get(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			last := s.lastFired(cmd.Context(), j.Name)
			if asJSON {
				return json.NewEncoder(c.env.Stdout).Encode(c.view(j, last))
			}
			c.printJob(j, last)
			return nil
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
			s, err := c.connect(cmd.Context())
			if err != nil {
				return err
			}
			defer s.close()
			now := c.env.Now().UTC()
			_, err = s.stores.Jobs.Update(cmd.Context(), args[0], func(j *jobs.Job) error {
				if enabled && !j.Enabled {
					// Slots missed while disabled are not started on enable.
					j.ScheduleSince = now
				}
				j.Enabled, j.UpdatedAt = enabled, now
				return nil
			})
			if err != nil {
				return err
			}
			c.out("job %s %sd\n", args[0], verb)
			return nil
		},
	}
}

func (c *cli) jobDeleteCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a job (its accounts and history stay)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := c.connect(cmd.Context())
			if err != nil {
				return err
			}
			defer s.close()
			if err := s.stores.Jobs.Delete(cmd.Context(), args[0]); err != nil {
				return err
			}
			c.out("job %s deleted\n", args[0])
			return nil
		},
	}
}

// jobView is a job as the command line shows it.
type jobView struct {
	*jobs.Job
	NextRun      string `json:"next_run,omitempty"`
	DomainsText  string `json:"-"`
	ScheduleText string `json:"-"`
	RequeueText  string `json:"-"`
}

func (c *cli) view(j *jobs.Job, lastFired time.Time) jobView {
	v := jobView{Job: j}
	if j.AllDomains {
		v.DomainsText = "all"
	} else {
		v.DomainsText = strings.Join(j.Domains, ",")
	}
	switch {
	case j.Schedule.Every != 0:
		v.ScheduleText = fmt.Sprintf("every %s (%s)", j.Schedule.Every.D(), j.Schedule.RunWhen)
	case j.Schedule.Cron != "":
		v.ScheduleText = fmt.Sprintf("cron %q %s", j.Schedule.Cron, orDefault(j.Schedule.TimeZone, "UTC"))
	default:
		v.ScheduleText = "manual"
	}
	if j.Requeue.Enabled {
		v.RequeueText = fmt.Sprintf("%d attempts, %s..%s", j.Requeue.MaxAttempts, j.Requeue.InitialDelay.D(), j.Requeue.MaxDelay.D())
	} else {
		v.RequeueText = "off"
	}
	if j.Enabled {
		if next, ok := j.Schedule.NextRun(j.ScheduleSince, lastFired, c.env.Now()); ok {
			v.NextRun = next.UTC().Format(time.RFC3339)
		}
	}
	return v
}

// lastFired returns the last scheduled slot tick started for a job.
func (s *session) lastFired(ctx context.Context, job string) time.Time {
	e, err := s.stores.Ticks.Get(ctx, job)
	if err != nil {
		return time.Time{}
	}
	t, _ := time.Parse(time.RFC3339, string(e.Value()))
	return t
}

func (c *cli) printJob(j *jobs.Job, lastFired time.Time) {
	v := c.view(j, lastFired)
	tw := tabwriter.NewWriter(c.env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "name:\t%s\n", j.Name)
	fmt.Fprintf(tw, "enabled:\t%v\n", j.Enabled)
	fmt.Fprintf(tw, "domains:\t%s\n", v.DomainsText)
	fmt.Fprintf(tw, "schedule:\t%s\n", v.ScheduleText)
	fmt.Fprintf(tw, "requeue:\t%s\n", v.RequeueText)
	fmt.Fprintf(tw, "next run:\t%s\n", orDefault(v.NextRun, "none (manual runs only)"))
	fmt.Fprintf(tw, "environment:\t%s\n", j.Environment)
	fmt.Fprintf(tw, "created:\t%s\n", j.CreatedAt.Format(time.RFC3339))
	_ = tw.Flush()
}

func orDash(s string) string { return orDefault(s, "-") }

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/internal/jobs"
)

// jobFlags are the settings of a job on the command line (create, update).
type jobFlags struct {
	all                     bool
	domains                 []string
	every                   time.Duration
	runWhen, start          string
	cronExpr, tz            string
	manual                  bool
	requeue, disabled       bool
	attempts                int
	retryDelay, retryMaxDel time.Duration
	safety                  events.Safety
	groupsBase, groupsFilt  string
	mode                    string
}

func (f *jobFlags) register(fs *pflag.FlagSet, update bool) {
	fs.BoolVar(&f.all, "all-domains", false, "sync every configured domain, including ones added later")
	fs.StringArrayVar(&f.domains, "domain", nil, "sync this domain (repeatable)")
	fs.DurationVar(&f.every, "every", 0, "time span schedule: run every DURATION (e.g. 12h)")
	fs.StringVar(&f.runWhen, "run-when", "", "with --every: immediately (first run now) or scheduled (first run one span from now, or at --start)")
	fs.StringVar(&f.start, "start", "", "with --every: first run at this time (RFC 3339)")
	fs.StringVar(&f.cronExpr, "cron", "", `calendar schedule, cron syntax (e.g. "0 2 * * *")`)
	fs.StringVar(&f.tz, "time-zone", "", "time zone of --cron (IANA name, default UTC)")
	fs.BoolVar(&f.requeue, "requeue", false, "requeue if the job fails: retry transient failures with a growing back-off")
	fs.IntVar(&f.attempts, "requeue-attempts", jobs.DefaultMaxAttempts, "with --requeue: attempts in all, the first included")
	fs.DurationVar(&f.retryDelay, "requeue-delay", jobs.DefaultInitialDelay, "with --requeue: delay before the second attempt (doubles each time)")
	fs.DurationVar(&f.retryMaxDel, "requeue-max-delay", jobs.DefaultMaxDelay, "with --requeue: longest delay between attempts")
	fs.IntVar(&f.safety.MaxDeactivations, "max-deactivations", jobs.DefaultSafety.MaxDeactivations, "deletion guard: hold a domain's plan that deactivates more accounts than this (0: off)")
	fs.IntVar(&f.safety.MaxDeactivationPercent, "max-deactivation-percent", jobs.DefaultSafety.MaxDeactivationPercent, "deletion guard: hold a plan that deactivates more than this percentage of a domain's active accounts (0: off)")
	fs.IntVar(&f.safety.MaxResultDropPercent, "max-result-drop-percent", jobs.DefaultSafety.MaxResultDropPercent, "deletion guard: hold a plan whose read returned this percentage fewer users than the last good run (0: off)")
	fs.StringVar(&f.mode, "mode", string(events.ModeAuto), "auto (delta reads when a valid watermark exists, a full read periodically), full, or delta")
	fs.StringVar(&f.groupsBase, "groups-base-dn", "", "sync only groups under this DN")
	fs.StringVar(&f.groupsFilt, "groups-filter", "", "sync only groups matching this LDAP filter")
	if update {
		fs.BoolVar(&f.manual, "manual", false, "remove the schedule: manual runs only")
	} else {
		fs.BoolVar(&f.disabled, "disabled", false, "create the job disabled")
	}
}

var scheduleFlags = []string{"every", "run-when", "start", "cron", "time-zone", "manual"}

// apply sets the job's fields from the flags that changed (all of them for
// a new job). A changed schedule replaces the old one and is re-anchored
// at now.
func (f *jobFlags) apply(j *jobs.Job, changed func(string) bool, now time.Time) error {
	if changed("all-domains") || changed("domain") {
		j.AllDomains, j.Domains = f.all, f.domains
	}
	anySchedule := false
	for _, n := range scheduleFlags {
		anySchedule = anySchedule || changed(n)
	}
	if anySchedule {
		j.Schedule = jobs.Schedule{Every: jobs.Duration(f.every), RunWhen: f.runWhen, Cron: f.cronExpr, TimeZone: f.tz}
		if f.every != 0 && f.runWhen == "" {
			j.Schedule.RunWhen = jobs.RunImmediately
		}
		if f.start != "" {
			t, err := time.Parse(time.RFC3339, f.start)
			if err != nil {
				return fmt.Errorf("--start %q: use RFC 3339, e.g. 2026-12-01T02:00:00Z", f.start)
			}
			j.Schedule.Start = &t
			if f.runWhen == "" {
				j.Schedule.RunWhen = jobs.RunScheduled
			}
		}
		j.Schedule.SetAnchor(now)
		j.ScheduleSince = now
	}
	if changed("requeue") {
		j.Requeue.Enabled = f.requeue
	}
	if changed("requeue-attempts") || j.Requeue.MaxAttempts == 0 {
		j.Requeue.MaxAttempts = f.attempts
	}
	if changed("requeue-delay") || j.Requeue.InitialDelay == 0 {
		j.Requeue.InitialDelay = jobs.Duration(f.retryDelay)
	}
	if changed("requeue-max-delay") || j.Requeue.MaxDelay == 0 {
		j.Requeue.MaxDelay = jobs.Duration(f.retryMaxDel)
	}
	sp := j.SafetyPolicy()
	if changed("max-deactivations") {
		sp.MaxDeactivations = f.safety.MaxDeactivations
	}
	if changed("max-deactivation-percent") {
		sp.MaxDeactivationPercent = f.safety.MaxDeactivationPercent
	}
	if changed("max-result-drop-percent") {
		sp.MaxResultDropPercent = f.safety.MaxResultDropPercent
	}
	j.Safety = &sp
	if changed("mode") {
		j.Mode = events.Mode(f.mode)
	}
	if changed("groups-base-dn") {
		j.Groups.BaseDN = f.groupsBase
	}
	if changed("groups-filter") {
		j.Groups.Filter = f.groupsFilt
	}
	j.UpdatedAt = now
	return j.Validate(bus.MaxRequeueAttempts)
}

func (c *cli) jobCreateCmd() *cobra.Command {
	var f jobFlags
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create an AD Sync Job",
		Example: `  adsync job create nightly --all-domains --every 12h --run-when immediately --requeue
  adsync job create corp-only --domain corp --cron "0 2 * * *" --time-zone Europe/Berlin`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			now := c.env.Now().UTC()
			j := &jobs.Job{Name: args[0], Enabled: !f.disabled, CreatedAt: now, ScheduleSince: now}
			if err := f.apply(j, func(string) bool { return true }, now); err != nil {
				return err
			}
			return c.withOps(ctx, func(ctx context.Context, s *session) error {
				if err := s.ops.CreateJob(ctx, s.actor, j); err != nil {
					return err
				}
				c.out("job %s created\n", j.Name)
				c.printJob(s.ops.ViewJob(ctx, j))
				return nil
			})
		},
	}
	f.register(cmd.Flags(), false)
	return cmd
}

func (c *cli) jobUpdateCmd() *cobra.Command {
	var f jobFlags
	cmd := &cobra.Command{
		Use:   "update NAME",
		Short: "Change a job's domains, schedule or requeue settings (takes effect without a restart)",
		Example: `  adsync job update nightly --every 24h --run-when scheduled
  adsync job update nightly --requeue=false`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withOps(cmd.Context(), func(ctx context.Context, s *session) error {
				j, err := s.ops.UpdateJob(ctx, s.actor, args[0], func(j *jobs.Job) error {
					return f.apply(j, cmd.Flags().Changed, c.env.Now().UTC())
				})
				if err != nil {
					return err
				}
				c.out("job %s updated\n", j.Name)
				c.printJob(s.ops.ViewJob(context.WithoutCancel(ctx), j))
				return nil
			})
		},
	}
	f.register(cmd.Flags(), true)
	return cmd
}

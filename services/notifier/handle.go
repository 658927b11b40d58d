package notifier

import (
	"context"
	"fmt"
	"strings"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/infra/metrics"
)

// HandleCompleted fires run.held, run.failed, run.partial and drift.found
// for the domains of a finished run, and resolves what a good run ends.
func (s *Service) HandleCompleted(ctx context.Context, c *events.SyncCompleted) error {
	metrics.RunOutcomes.WithLabelValues(c.Job, c.Outcome).Inc()
	for _, d := range c.Domains {
		base := alert{Job: c.Job, Domain: d.Domain, RunID: c.RunID, Occurrence: c.RunID, Resolvable: true}
		var fire []alert
		switch d.Outcome {
		case events.OutcomeHeld:
			if d.HeldBy != "" {
				break // skipped because an earlier plan is held: that alert is open
			}
			a := base
			a.Kind, a.Link = events.AlertRunHeld, s.link("/held")
			a.Title = fmt.Sprintf("job %s: the deletion guard held the plan for domain %s", c.Job, d.Domain)
			a.Text = fmt.Sprintf("Job %s, domain %s: the deletion guard held run %s's plan. %s.\n\n"+
				"Until someone decides, no run syncs domain %s: leavers stay active and new hires are not created. "+
				"Review the accounts the plan would deactivate, then approve or discard it (console: Held plans; or adsync run approve|discard %s).",
				c.Job, d.Domain, c.RunID, holdText(d.Hold), d.Domain, c.RunID)
			fire = append(fire, a)
		case events.OutcomeFailed:
			a := base
			a.Kind, a.Link = events.AlertRunFailed, s.link("/runs/"+c.RunID)
			a.Title = fmt.Sprintf("job %s: domain %s failed", c.Job, d.Domain)
			a.Text = fmt.Sprintf("Job %s, domain %s: run %s failed after %d attempt(s): %s.\n\nNothing of the domain was changed. "+
				"Fix the cause (the directory's address, credentials, certificate) and run the job again.", c.Job, d.Domain, c.RunID, d.Attempts, orText(d.Reason, "no reason given"))
			fire = append(fire, a)
		case events.OutcomePartial:
			a := base
			a.Kind, a.Link = events.AlertRunPartial, s.link("/runs/"+c.RunID+"?op=")
			a.Title = fmt.Sprintf("job %s: %d account changes failed in domain %s", c.Job, d.Failed, d.Domain)
			a.Text = fmt.Sprintf("Job %s, domain %s: run %s applied its plan, but %d account change(s) failed. "+
				"The run's report lists each with its error (adsync run show %s); the next run tries them again.", c.Job, d.Domain, c.RunID, d.Failed, c.RunID)
			fire = append(fire, a)
		case events.OutcomeCompleted:
			metrics.DomainLastSuccess.WithLabelValues(c.Job, d.Domain).Set(float64(c.FinishedAt.Unix()))
			for _, kind := range []string{events.AlertRunHeld, events.AlertRunFailed, events.AlertRunPartial, events.AlertRequeueExhausted} {
				if err := s.resolve(ctx, kind, c.Job, d.Domain, c.RunID); err != nil {
					return err
				}
			}
		}
		if d.Drift > 0 {
			a := base
			a.Kind, a.Link = events.AlertDriftFound, s.link("/drift")
			a.Title = fmt.Sprintf("job %s: %d accounts of domain %s are disabled here but enabled in the directory", c.Job, d.Drift, d.Domain)
			a.Text = fmt.Sprintf("Job %s, domain %s: %d account(s) deactivated locally are still enabled in the directory. "+
				"Disable them there too, or lift the local holds (console: Drift; adsync accounts drift).", c.Job, d.Domain, d.Drift)
			fire = append(fire, a)
		} else if d.Outcome == events.OutcomeCompleted {
			if err := s.resolve(ctx, events.AlertDriftFound, c.Job, d.Domain, c.RunID); err != nil {
				return err
			}
		}
		for _, a := range fire {
			if err := s.fire(ctx, a); err != nil {
				return err
			}
		}
	}
	if c.Outcome == events.OutcomeCompleted {
		for _, kind := range []string{events.AlertRunRejected, events.AlertJobStale} {
			if err := s.resolve(ctx, kind, c.Job, "", c.RunID); err != nil {
				return err
			}
		}
	}
	return nil
}

func holdText(h *events.Hold) string {
	if h == nil {
		return "The plan was held"
	}
	return fmt.Sprintf("The plan deactivates %d of %d active accounts; the read found %d users (the last good run %d): %s",
		h.Deactivations, h.ActiveBefore, h.Entries, h.LastGoodEntries, strings.Join(h.Reasons, "; "))
}

func orText(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// HandleRejected fires run.rejected: guard refused a run.
func (s *Service) HandleRejected(ctx context.Context, r *events.SyncRejected) error {
	metrics.RunOutcomes.WithLabelValues(r.Job, events.OutcomeRejected).Inc()
	return s.fire(ctx, alert{Kind: events.AlertRunRejected, Job: r.Job, RunID: r.RunID, Occurrence: r.RunID, Resolvable: true,
		Title: fmt.Sprintf("job %s: a run was refused", r.Job), Link: s.link("/jobs"),
		Text: fmt.Sprintf("Job %s: run %s was refused: %s.\n\nNothing was read or changed. Remove the cause, and run the job again.",
			r.Job, r.RunID, strings.Join(r.Reasons, "; "))})
}

// HandleFailed fires requeue.exhausted: a domain's last attempt failed.
func (s *Service) HandleFailed(ctx context.Context, f *events.DirectoryFailed) error {
	if f.WillRetry || f.MaxAttempts < 2 || f.Attempt < f.MaxAttempts {
		return nil
	}
	return s.fire(ctx, alert{Kind: events.AlertRequeueExhausted, Job: f.Job, Domain: f.Domain, RunID: f.RunID, Occurrence: f.RunID, Resolvable: true,
		Title: fmt.Sprintf("job %s: all %d attempts to read domain %s failed", f.Job, f.MaxAttempts, f.Domain), Link: s.link("/runs/" + f.RunID),
		Text: fmt.Sprintf("Job %s, domain %s: run %s tried %d times and gave up; the last attempt failed: %s.\n\n"+
			"Fix the cause, then run the job again.", f.Job, f.Domain, f.RunID, f.Attempt, f.Reason)})
}

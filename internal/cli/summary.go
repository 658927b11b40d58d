package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/runs"
	"github.com/adsync/adsync/services/account-writer/accounts"
)

// RunSummary is what `job run --wait` and `job history` print for a run.
type RunSummary = runs.Summary

func printSummary(w io.Writer, s RunSummary) {
	fmt.Fprintf(w, "run %s (job %s, %s): %s\n", s.RunID, s.Job, s.Trigger, s.Outcome)
	for _, r := range s.Reasons {
		fmt.Fprintf(w, "  reason: %s\n", r)
	}
	for _, d := range s.Domains {
		if d.HeldBy != "" {
			fmt.Fprintf(w, "  domain %s: %s — not read\n    %s\n", d.Domain, d.Outcome, d.Reason)
			continue
		}
		fmt.Fprintf(w, "  domain %s: %s", d.Domain, d.Outcome)
		if d.Mode != "" {
			fmt.Fprintf(w, " (%s read)", d.Mode)
		}
		if d.Attempts > 1 {
			fmt.Fprintf(w, " after %d attempts", d.Attempts)
		}
		fmt.Fprintf(w, " — %d entries read; %s\n", d.Entries, countsText(d.Counts))
		if d.Joined+d.Left > 0 {
			fmt.Fprintf(w, "    group memberships: %d joined, %d left\n", d.Joined, d.Left)
		}
		if d.Skipped > 0 {
			fmt.Fprintf(w, "    %d directory entries could not be synced and were left as they are (adsync run show %s)\n", d.Skipped, s.RunID)
		}
		if d.Failed > 0 {
			fmt.Fprintf(w, "    %d account changes failed and will be retried (adsync run show %s)\n", d.Failed, s.RunID)
		}
		if d.Drift > 0 {
			fmt.Fprintf(w, "    %d accounts deactivated locally are still enabled in the directory: disable them there too (adsync accounts drift)\n", d.Drift)
		}
		if d.Hold != nil {
			verb := "held"
			if d.Outcome == events.OutcomeDryRun {
				verb = "would be held"
			}
			fmt.Fprintf(w, "    deletion guard: plan %s — %s\n", verb, strings.Join(d.Hold.Reasons, "; "))
			if d.Outcome == events.OutcomeHeld {
				fmt.Fprintf(w, "    review it with: adsync run show %s; then adsync run approve %s, or adsync run discard %s\n", s.RunID, s.RunID, s.RunID)
			}
		} else if d.Reason != "" {
			fmt.Fprintf(w, "    %s\n", d.Reason)
		}
	}
	if len(s.Domains) > 1 {
		fmt.Fprintf(w, "  total: %s\n", countsText(s.Totals))
	}
}

func countsText(c events.Counts) string {
	return fmt.Sprintf("created %d, updated %d, deactivated %d, reactivated %d, unchanged %d",
		c.Created, c.Updated, c.Deactivated, c.Reactivated, c.Unchanged)
}

// oneLine is the run's outcome as one line, for a non-zero exit.
func oneLine(s RunSummary) string {
	if len(s.Reasons) == 0 {
		return fmt.Sprintf("run %s %s", s.RunID, s.Outcome)
	}
	return fmt.Sprintf("run %s %s: %s", s.RunID, s.Outcome, strings.Join(s.Reasons, "; "))
}

// printPlan lists a dry run's changes, grouped by what would happen; a
// truncated plan (accounts.report_max_rows) says how many of each it lists.
func printPlan(w io.Writer, plan []accounts.Change, truncated bool) {
	groups := []struct{ op, title string }{
		{events.OpCreate, "would create"}, {events.OpUpdate, "would update"},
		{events.OpDeactivate, "would deactivate"}, {events.OpReactivate, "would reactivate"},
	}
	for _, g := range groups {
		var lines []string
		for _, c := range plan {
			if c.Op != g.op {
				continue
			}
			line := "    " + orDefault(c.LocalName, c.Domain+"/"+c.ExternalID)
			if len(c.Fields) > 0 && g.op == events.OpUpdate {
				line += " (" + strings.Join(c.Fields, ", ") + ")"
			}
			if c.Reason != "" {
				line += " — " + c.Reason
			}
			lines = append(lines, line)
		}
		listed := ""
		if truncated {
			listed = " listed"
		}
		if len(lines) > 0 {
			fmt.Fprintf(w, "  %s (%d%s):\n%s\n", g.title, len(lines), listed, strings.Join(lines, "\n"))
		}
	}
}

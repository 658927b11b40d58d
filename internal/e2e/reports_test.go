package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/internal/cli"
	"github.com/adsync/adsync/internal/testenv/slapd"
	"github.com/adsync/adsync/services/account-writer/accounts"
)

// Reports are bounded by accounts.report_max_rows and say when they are
// cut off (run show and a dry run's plan, text and JSON), with exact
// counts; reports older than accounts.report_retention are pruned when a
// later run finishes (the system's clock is advanced, nothing sleeps).
func TestReportsAreBoundedAndPruned(t *testing.T) {
	t.Parallel()
	openldap := slapd.Start(t, slapd.WithUsers(5))
	sys := Start(t, []Domain{LDAPDomain("lab", openldap)}, WithConfig("accounts:\n  report_max_rows: 2\n  report_retention: 1h\n"))
	sys.MustCLI("job", "create", "lab-sync", "--all-domains", "--mode", "full")
	first := sys.MustComplete("lab-sync")
	if c, _, _, _, _ := Counts(t, first, "lab"); c != 5 {
		t.Fatalf("first run: %+v", first.Domains)
	}

	t.Run("run show", func(t *testing.T) {
		var rep accounts.RunReport
		if err := json.Unmarshal([]byte(sys.MustCLI("run", "show", first.RunID, "--json")), &rep); err != nil {
			t.Fatal(err)
		}
		if len(rep.Changes) != 2 || rep.Truncated != 3 || rep.TruncatedByDomain["lab"] != 3 || rep.Domains[0].Created != 5 {
			t.Fatalf("run show --json: %d changes listed, truncated %d %v, counts %+v", len(rep.Changes), rep.Truncated, rep.TruncatedByDomain, rep.Domains)
		}
		out := sys.MustCLI("run", "show", first.RunID)
		for _, w := range []string{"created 5", "domain lab: 3 more account changes are not listed", "accounts.report_max_rows"} {
			if !strings.Contains(out, w) {
				t.Errorf("run show lacks %q:\n%s", w, out)
			}
		}
	})

	t.Run("dry run plan", func(t *testing.T) {
		for i := 1; i <= 3; i++ {
			openldap.Modify(t, fmt.Sprintf("uid=user%07d,%s", i, openldap.UsersDN), "mail", fmt.Sprintf("u%d@example.org", i))
		}
		r := sys.CLI("job", "run", "lab-sync", "--dry-run", "--wait", "--json")
		var sum cli.RunSummary
		if err := json.Unmarshal([]byte(r.Stdout), &sum); err != nil || r.Err != nil {
			t.Fatalf("dry run --json: %v %v\n%s\n%s", err, r.Err, r.Stdout, r.Stderr)
		}
		if _, u, _, _, _ := Counts(t, sum, "lab"); u != 3 || len(sum.Plan) != 2 || sum.PlanTruncated != 1 {
			t.Fatalf("dry run: updated %d, plan %d listed, plan_truncated %d", u, len(sum.Plan), sum.PlanTruncated)
		}
		r = sys.CLI("job", "run", "lab-sync", "--dry-run", "--wait")
		if r.Err != nil {
			t.Fatalf("dry run: %v\n%s", r.Err, r.Stdout)
		}
		for _, w := range []string{"updated 3", "would update (2 listed):", "domain lab: 1 more account changes are not listed"} {
			if !strings.Contains(r.Stdout, w) {
				t.Errorf("dry run output lacks %q:\n%s", w, r.Stdout)
			}
		}
	})

	t.Run("retention", func(t *testing.T) {
		sys.Clock.Advance(2 * time.Hour)
		last := sys.MustComplete("lab-sync")
		// account-writer prunes right after it publishes the run's outcome.
		var r Result
		waitFor(t, "the report older than the retention to be pruned", time.Minute, func() bool {
			r = sys.CLI("run", "show", first.RunID)
			return r.Err != nil
		})
		if !strings.Contains(r.Err.Error(), "report_retention") {
			t.Fatalf("run show of a pruned run: %v", r.Err)
		}
		var rep accounts.RunReport
		if err := json.Unmarshal([]byte(sys.MustCLI("run", "show", last.RunID, "--json")), &rep); err != nil || len(rep.Domains) != 1 || rep.Domains[0].Updated != 3 {
			t.Fatalf("the last run's report: %v %+v", err, rep.Domains)
		}
		if n := len(sys.Accounts("lab")); n != 5 {
			t.Fatalf("%d accounts after pruning, want 5", n)
		}
	})
}

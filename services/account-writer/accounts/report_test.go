package accounts

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/adsync/adsync/events"
)

// A report cut off at ReportMaxRows says how many rows it does not list,
// per domain; the counts stay exact and failures are always listed.
func TestATruncatedReportSaysSo(t *testing.T) {
	for _, outcome := range []string{events.OutcomeCompleted, events.OutcomeDryRun, events.OutcomeHeld} {
		t.Run(outcome, func(t *testing.T) {
			ctx := context.Background()
			s, err := Open(ctx, filepath.Join(t.TempDir(), "accounts.db"), Options{ReportMaxRows: 2})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			// Five creations, one of which takes a local name already taken
			// in the same plan: it fails (when applied) and is listed anyway.
			b := batch(run1, "p1", create("g1", "a", 10), create("g2", "b", 10), create("g3", "c", 10), create("g4", "d", 10), create("g5", "a", 10))
			_, _ = s.Stage(ctx, b.MessageID(), b)
			c := done(run1, 1)
			c.Outcome = outcome
			c.Planned = events.Counts{Created: 5}
			if outcome == events.OutcomeHeld {
				c.Hold = &events.Hold{Reasons: []string{"x"}}
			}
			if d, err := s.Expect(ctx, c); err != nil || !d {
				t.Fatalf("done=%v %v", d, err)
			}
			if outcome == events.OutcomeHeld {
				rep, err := s.Report(ctx, "r1", 0, 100)
				if err != nil || len(rep.Changes) != 2 || rep.Truncated != 3 {
					t.Fatalf("held report: %d rows, truncated %d, %v", len(rep.Changes), rep.Truncated, err)
				}
				if _, err := s.Decide(ctx, &events.PlanDecided{Run: run1, Domain: "corp", Decision: events.DecisionApprove, DecidedBy: "me"}); err != nil {
					t.Fatal(err)
				}
			}
			rep, err := s.Report(ctx, "r1", 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			wantRows, wantCut, failed := 2, 3, 0
			if outcome != events.OutcomeDryRun {
				wantRows, wantCut = 3, 2 // the failure is listed beyond the bound
			}
			for _, ch := range rep.Changes {
				if ch.Result == ResultFailed {
					failed++
				}
			}
			if len(rep.Changes) != wantRows || rep.Truncated != wantCut || rep.TruncatedByDomain["corp"] != wantCut {
				t.Fatalf("%d rows listed, truncated %d (%v); want %d and %d", len(rep.Changes), rep.Truncated, rep.TruncatedByDomain, wantRows, wantCut)
			}
			if outcome != events.OutcomeDryRun && (failed != 1 || rep.Domains[0].Created != 4 || rep.Domains[0].Failed != 1) {
				t.Fatalf("failures listed %d, counts %+v", failed, rep.Domains[0])
			}
		})
	}
}

// Reports older than ReportRetention are pruned when a later run is
// published; held plans and accounts are kept.
func TestReportsArePrunedAfterTheRetention(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	s, err := Open(ctx, filepath.Join(t.TempDir(), "accounts.db"), Options{ReportMaxRows: 1, ReportRetention: time.Hour,
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	b := batch(run1, "p1", create("g1", "a", 10), create("g2", "b", 10))
	_, _ = s.Stage(ctx, b.MessageID(), b)
	_, _ = s.Expect(ctx, done(run1, 1))
	if err := s.MarkRunPublished(ctx, "r1"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Hour)
	run2 := events.Run{RunID: "r2", Job: "j"}
	b2 := batch(run2, "p1", create("g3", "c", 10))
	_, _ = s.Stage(ctx, b2.MessageID(), b2)
	_, _ = s.Expect(ctx, done(run2, 1))
	if err := s.MarkRunPublished(ctx, "r2"); err != nil {
		t.Fatal(err)
	}
	if rep, err := s.Report(ctx, "r1", 0, 100); err != nil || len(rep.Domains) != 0 || len(rep.Changes) != 0 || rep.Truncated != 0 {
		t.Fatalf("the old report was kept: %+v %v", rep, err)
	}
	if rep, err := s.Report(ctx, "r2", 0, 100); err != nil || len(rep.Domains) != 1 || len(rep.Changes) != 1 {
		t.Fatalf("the new report: %+v %v", rep, err)
	}
	if n := len(list(t, s)); n != 3 {
		t.Fatalf("%d accounts after pruning, want 3", n)
	}
}

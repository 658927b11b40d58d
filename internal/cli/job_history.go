package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/bus"
)

func (c *cli) jobHistoryCmd() *cobra.Command {
	var (
		asJSON  bool
		limit   int
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "history NAME",
		Short: "List a job's runs, newest first: trigger, attempts, start, end, outcome, counts",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			s, err := c.connect(ctx)
			if err != nil {
				return err
			}
			defer s.close()
			runs, err := history(ctx, s.bus, args[0])
			if errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("job history: no complete answer from NATS within %s (is a JetStream server of the cluster down? try again, or raise --timeout): %w", timeout, err)
			}
			if err != nil {
				return err
			}
			if limit > 0 && len(runs) > limit {
				runs = runs[:limit]
			}
			if asJSON {
				return json.NewEncoder(c.env.Stdout).Encode(runs)
			}
			tw := tabwriter.NewWriter(c.env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "RUN\tTRIGGER\tATTEMPTS\tSTARTED\tFINISHED\tOUTCOME\tCREATED\tUPDATED\tDEACTIVATED\tREACTIVATED\tUNCHANGED")
			for _, r := range runs {
				fin := "-"
				if r.FinishedAt != nil {
					fin = r.FinishedAt.UTC().Format(time.RFC3339)
				}
				trigger := string(r.Trigger)
				if r.Attempts > 1 {
					trigger += "+requeue"
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\n", r.RunID, trigger, r.Attempts,
					r.RequestedAt.UTC().Format(time.RFC3339), fin, r.Outcome,
					r.Totals.Created, r.Totals.Updated, r.Totals.Deactivated, r.Totals.Reactivated, r.Totals.Unchanged)
				for _, d := range r.Domains { // each domain's own outcome and counts, under its run
					fmt.Fprintf(tw, "  domain %s\t\t%d\t\t\t%s\t%d\t%d\t%d\t%d\t%d\n", d.Domain, d.Attempts, d.Outcome,
						d.Created, d.Updated, d.Deactivated, d.Reactivated, d.Unchanged)
				}
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			for _, r := range runs {
				for _, f := range r.Failures {
					next := "final"
					if f.WillRetry {
						next = "requeued, next attempt in " + f.RetryIn
					}
					fmt.Fprintf(c.env.Stdout, "%s: domain %s attempt %d (%s) failed: %s — %s\n", r.RunID, f.Domain, f.Attempt, f.Trigger, f.Reason, next)
				}
				for _, reason := range r.Reasons {
					fmt.Fprintf(c.env.Stdout, "%s: %s\n", r.RunID, reason)
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON array")
	cmd.Flags().IntVar(&limit, "limit", 50, "show at most this many runs (0: all that are kept)")
	cmd.Flags().DurationVar(&timeout, "timeout", time.Minute, "give up when NATS has not answered in full by then")
	return cmd
}

// history rebuilds a job's runs from the run events kept in the control
// stream (bounded by nats.history).
func history(ctx context.Context, b *bus.Bus, job string) ([]RunSummary, error) {
	names := []string{
		(events.SyncRequested{}).EventName(), (events.SyncApproved{}).EventName(), (events.SyncRejected{}).EventName(),
		(events.SyncCompleted{}).EventName(), (events.DirectoryFailed{}).EventName(),
	}
	subjects := make([]string, len(names))
	for i, n := range names {
		subjects[i] = events.SubjectOf(n)
	}
	st, err := b.JS.Stream(ctx, bus.StreamControl)
	if err != nil {
		return nil, err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return nil, err
	}
	runs := map[string]*RunSummary{}
	var order []string
	if info.State.Msgs > 0 {
		cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: subjects, DeliverPolicy: jetstream.DeliverAllPolicy})
		if err != nil {
			return nil, err
		}
		get := func(r events.Run) *RunSummary {
			s, ok := runs[r.RunID]
			if !ok {
				s = &RunSummary{RunID: r.RunID, Job: r.Job, Trigger: r.Trigger, RequestedAt: r.RequestedAt, Outcome: "requested",
					Reasons: []string{}, Domains: []events.DomainResult{}}
				runs[r.RunID] = s
				order = append(order, r.RunID)
			}
			return s
		}
		for {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			batch, err := cons.FetchNoWait(500)
			if err != nil {
				return nil, err
			}
			n := 0
			pending := uint64(0)
			for m := range batch.Messages() {
				n++
				if md, err := m.Metadata(); err == nil {
					pending = md.NumPending
				}
				var head struct {
					events.Run
				}
				if json.Unmarshal(m.Data(), &head) != nil || head.Job != job {
					continue
				}
				s := get(head.Run)
				switch bus.NameFromSubject(m.Subject()) {
				case names[1]:
					if s.Outcome == "requested" {
						s.Outcome = "running"
					}
				case names[2]:
					var r events.SyncRejected
					if json.Unmarshal(m.Data(), &r) == nil {
						*s = summaryOfRejected(&r, md(m))
					}
				case names[3]:
					var r events.SyncCompleted
					if json.Unmarshal(m.Data(), &r) == nil {
						attempts, failures := s.Attempts, s.Failures
						*s = summaryOfCompleted(&r)
						s.Attempts, s.Failures = max(s.Attempts, attempts), failures
					}
				case names[4]:
					var f events.DirectoryFailed
					if json.Unmarshal(m.Data(), &f) == nil {
						s.Attempts = max(s.Attempts, f.Attempt)
						trigger := s.Trigger
						if f.Attempt > 1 {
							trigger = events.TriggerRequeue
						}
						s.Failures = append(s.Failures, AttemptFailure{Domain: f.Domain, Attempt: f.Attempt, Trigger: trigger,
							Reason: f.Reason, WillRetry: f.WillRetry, RetryIn: f.RetryIn, At: f.FailedAt})
					}
				}
				if s.Attempts == 0 && s.Outcome != events.OutcomeRejected && s.Outcome != "requested" {
					s.Attempts = 1
				}
			}
			if err := batch.Error(); err != nil {
				return nil, err
			}
			if n == 0 || pending == 0 {
				break
			}
		}
	}
	out := make([]RunSummary, 0, len(order))
	for _, id := range order {
		out = append(out, *runs[id])
	}
	slices.Reverse(out)
	return out, nil
}

// md returns a stream message's time.
func md(m jetstream.Msg) time.Time {
	meta, err := m.Metadata()
	if err != nil {
		return time.Time{}
	}
	return meta.Timestamp.UTC()
}

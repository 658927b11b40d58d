package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"
	"github.com/spf13/cobra"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/internal/runs"
	"github.com/adsync/adsync/services/account-writer/accounts"
)

func (c *cli) jobRunCmd() *cobra.Command {
	var (
		wait, asJSON, dryRun bool
		timeout              time.Duration
		mode                 string
	)
	cmd := &cobra.Command{
		Use:   "run NAME",
		Short: "Run a job now; with --wait, print its summary and exit 0 only if it completed",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withOps(cmd.Context(), func(ctx context.Context, s *session) error {
				var err error
				var results jetstream.MessagesContext
				if wait {
					// Subscribe before publishing, so that no outcome is missed.
					if results, err = c.followRuns(ctx, s); err != nil {
						return err
					}
					defer results.Stop()
				}
				req, err := s.ops.RunJob(ctx, s.actor, args[0], events.Mode(mode), dryRun)
				if err != nil {
					return err
				}
				if !wait {
					if asJSON {
						return json.NewEncoder(c.env.Stdout).Encode(map[string]string{"run_id": req.RunID, "job": req.Job})
					}
					c.out("run %s requested (follow it with: adsync watch, or adsync job history %s)\n", req.RunID, req.Job)
					return nil
				}
				fmt.Fprintf(c.env.Stderr, "run %s requested; waiting for it to finish\n", req.RunID)
				sum, err := c.awaitRun(ctx, s, results, req.Job, req.RunID, timeout)
				if err != nil {
					return err
				}
				if dryRun && sum.Outcome == events.OutcomeCompleted {
					rep, err := c.fetchReport(ctx, s, sum.RunID)
					if err != nil {
						return err
					}
					sum.Plan, sum.PlanTruncated, sum.PlanTruncatedBy = rep.Changes, rep.Truncated, rep.TruncatedByDomain
					if sum.Plan == nil {
						sum.Plan = []accounts.Change{}
					}
				}
				if asJSON {
					if err := json.NewEncoder(c.env.Stdout).Encode(sum); err != nil {
						return err
					}
				} else {
					printSummary(c.env.Stdout, sum)
					if dryRun {
						printPlan(c.env.Stdout, sum.Plan, sum.PlanTruncated > 0)
						printTruncated(c.env.Stdout, sum.PlanTruncatedBy, "  ")
					}
				}
				if sum.Outcome != events.OutcomeCompleted {
					return &ExitError{Code: 1, Msg: oneLine(sum)}
				}
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.BoolVar(&wait, "wait", false, "wait for the run to finish and print its summary")
	f.DurationVar(&timeout, "timeout", time.Hour, "with --wait: give up waiting after this long (the run goes on)")
	f.BoolVar(&asJSON, "json", false, "print the summary as one JSON object")
	f.StringVar(&mode, "mode", "", "this run only: auto, full or delta (default: the job's mode)")
	f.BoolVar(&dryRun, "dry-run", false, "compute the full plan through the same pipeline and write nothing (with --wait: print it)")
	return cmd
}

// followRuns follows run outcomes and attempt failures from now on.
//
// "From now on" is the stream's next sequence, not DeliverNew: an ordered
// consumer that has delivered nothing yet is recreated with its first
// policy when the connection comes back (the NATS server restarted), and
// DeliverNew would then skip what was published in between, such as the
// run's sync.completed.
func (c *cli) followRuns(ctx context.Context, s *session) (jetstream.MessagesContext, error) {
	st, err := s.bus.JS.Stream(ctx, bus.StreamControl)
	if err != nil {
		return nil, fmt.Errorf("follow runs: %w", err)
	}
	cons, err := s.bus.JS.OrderedConsumer(ctx, bus.StreamControl, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{
			events.SubjectOf((events.SyncRejected{}).EventName()),
			events.SubjectOf((events.SyncCompleted{}).EventName()),
			events.SubjectOf((events.DirectoryFailed{}).EventName()),
		},
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:   st.CachedInfo().State.LastSeq + 1,
	})
	if err != nil {
		return nil, fmt.Errorf("follow runs: %w", err)
	}
	return cons.Messages()
}

// recheckEvery is how often awaitRun also asks the durable record (the job
// history, a scan of the control stream) whether the run ended, in case its
// follower missed the event.
var recheckEvery = 30 * time.Second

// awaitRun waits for the run's terminal event, reporting retries on stderr.
// The events come from an ordered consumer, which lives on one NATS server:
// should that server die and the consumer be lost for good, the run's end
// is still found in the job's history, asked every recheckEvery.
func (c *cli) awaitRun(ctx context.Context, s *session, msgs jetstream.MessagesContext, job, runID string, timeout time.Duration) (RunSummary, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	stop := context.AfterFunc(ctx, msgs.Stop)
	defer stop()
	type next struct {
		m   jetstream.Msg
		err error
	}
	nexts := make(chan next)
	go func() {
		for {
			m, err := msgs.Next()
			select {
			case nexts <- next{m, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	recheck := time.NewTicker(recheckEvery)
	defer recheck.Stop()
	for {
		var n next
		select {
		case n = <-nexts:
		case <-recheck.C:
			if sum, ok := ended(ctx, s, job, runID); ok {
				return sum, nil
			}
			continue
		case <-ctx.Done():
			n.err = ctx.Err()
		}
		m, err := n.m, n.err
		if err != nil {
			if ctx.Err() != nil {
				if errors.Is(ctx.Err(), context.DeadlineExceeded) {
					return RunSummary{}, &ExitError{Code: 1, Msg: fmt.Sprintf("run %s did not finish within %s; it goes on (adsync watch)", runID, timeout)}
				}
				return RunSummary{}, ctx.Err()
			}
			return RunSummary{}, fmt.Errorf("follow run %s: %w", runID, err)
		}
		switch bus.NameFromSubject(m.Subject()) {
		case (events.SyncRejected{}).EventName():
			var r events.SyncRejected
			if json.Unmarshal(m.Data(), &r) == nil && r.RunID == runID {
				return runs.OfRejected(&r, c.env.Now().UTC()), nil
			}
		case (events.SyncCompleted{}).EventName():
			var r events.SyncCompleted
			if json.Unmarshal(m.Data(), &r) == nil && r.RunID == runID {
				return runs.OfCompleted(&r), nil
			}
		case (events.DirectoryFailed{}).EventName():
			var f events.DirectoryFailed
			if json.Unmarshal(m.Data(), &f) == nil && f.RunID == runID {
				if f.WillRetry {
					fmt.Fprintf(c.env.Stderr, "domain %s: attempt %d of %d failed: %s; retrying in %s\n", f.Domain, f.Attempt, f.MaxAttempts, f.Reason, f.RetryIn)
				} else {
					fmt.Fprintf(c.env.Stderr, "domain %s: attempt %d failed: %s\n", f.Domain, f.Attempt, f.Reason)
				}
			}
		}
	}
}

// ended looks the run up in the job's history: its summary, once it ended.
func ended(ctx context.Context, s *session, job, runID string) (RunSummary, bool) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	list, err := runs.History(ctx, s.bus.JS, job)
	if err != nil {
		return RunSummary{}, false // the follower may still answer; asked again later
	}
	for _, r := range list {
		if r.RunID == runID {
			return r, r.Outcome != "requested" && r.Outcome != "running"
		}
	}
	return RunSummary{}, false
}

// Package accountwriter is the account-writer service: the single writer of
// the SQLite account store. It stages each domain's plan as diff publishes
// it, applies it whole once diff says the domain is complete and not held
// (or an administrator approves a held plan), records each domain's
// outcome and per-account report, and publishes sync.completed when every
// domain of a run has an outcome.
package accountwriter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go/micro"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/internal/infra/metrics"
	"github.com/adsync/adsync/internal/infra/sqlite"
	"github.com/adsync/adsync/internal/natsapi"
	"github.com/adsync/adsync/services/account-writer/accounts"
)

// Config of the account-writer service.
type Config struct {
	// DBPath is the account store.
	DBPath string
	// Store options: local-name rule, report bounds.
	Store accounts.Options
	Now   func() time.Time
}

// ConfigFromDataDir returns the default config for a data directory.
func ConfigFromDataDir(dataDir string) Config {
	return Config{DBPath: filepath.Join(dataDir, "accounts.db")}
}

// Publisher publishes events (the bus).
type Publisher interface {
	Publish(ctx context.Context, evs ...events.Event) error
}

// Watermarks saves where each domain's next delta read starts.
type Watermarks interface {
	Put(ctx context.Context, domain string, w events.Watermark) error
}

// Service is the account-writer service.
type Service struct {
	cfg   Config
	store *accounts.Store
	pub   Publisher
	marks Watermarks
	log   *slog.Logger
	// feedKick wakes RelayFeed when changes were committed.
	feedKick chan struct{}
}

// New opens the account store and returns the service.
func New(ctx context.Context, cfg Config, pub Publisher, marks Watermarks) (*Service, error) {
	if cfg.DBPath == "" {
		return nil, errors.New("account-writer: db path is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Store.Now = cfg.Now
	st, err := accounts.Open(ctx, cfg.DBPath, cfg.Store)
	if err != nil {
		return nil, fmt.Errorf("account-writer: %w", err)
	}
	return &Service{cfg: cfg, store: st, pub: pub, marks: marks, log: slog.Default(), feedKick: make(chan struct{}, 1)}, nil
}

// Store returns the account store.
func (s *Service) Store() *accounts.Store { return s.store }

// Register adds the service's handlers to a router.
func (s *Service) Register(r *bus.Router) error {
	return errors.Join(
		bus.Handle(r, bus.ConsumerWriterChanges, s.HandleChanges),
		bus.Handle(r, bus.ConsumerWriterCompleted, s.HandleChangesCompleted),
		bus.Handle(r, bus.ConsumerWriterDecided, s.HandleDecided),
	)
}

// Close closes the store.
func (s *Service) Close() error { return s.store.Close() }

// HandleChanges stages a batch of account changes (once); the last batch a
// finished domain waited for finishes it.
func (s *Service) HandleChanges(ctx context.Context, b *events.AccountChanges) error {
	start := time.Now()
	done, err := s.store.Stage(ctx, b.MessageID(), b)
	s.kickFeed() // a first sync's page is applied as it comes
	if done {
		metrics.PhaseSeconds.WithLabelValues("apply").Observe(time.Since(start).Seconds())
	}
	if err != nil {
		return err
	}
	bus.Logger(ctx).Debug("batch staged", "batch", b.Batch, "changes", len(b.Changes))
	if done {
		return s.completeRun(ctx, b.RunID)
	}
	return nil
}

// HandleChangesCompleted records diff's word that a domain is done; the
// domain is finished once all its batches are here, and the run when its
// last domain is.
func (s *Service) HandleChangesCompleted(ctx context.Context, c *events.ChangesCompleted) error {
	start := time.Now()
	done, err := s.store.Expect(ctx, c)
	if done {
		s.kickFeed()
		metrics.PhaseSeconds.WithLabelValues("apply").Observe(time.Since(start).Seconds())
	}
	if err != nil {
		return err
	}
	if !done {
		bus.Logger(ctx).Debug("domain waits for its last batches", "batches", c.TotalBatches)
		return nil
	}
	// Also on a redelivery: the run's completion may not have been
	// published before a crash.
	return s.completeRun(ctx, c.RunID)
}

// HandleDecided applies or drops a held plan.
func (s *Service) HandleDecided(ctx context.Context, d *events.PlanDecided) error {
	res, err := s.store.Decide(ctx, d)
	s.kickFeed()
	if errors.Is(err, accounts.ErrNotHeld) {
		// A redelivery of this very decision, whose end (watermarks,
		// plan.applied) may have failed after the plan was applied or
		// dropped: that end is done again.
		done, derr := s.store.Decided(ctx, d)
		if derr != nil {
			return derr
		}
		if done == nil {
			bus.Logger(ctx).Warn("decision on a plan that is not held; ignored", "decision", d.Decision, "err", err)
			return nil
		}
		res, err = done, nil
	}
	if err != nil {
		return err
	}
	if err := s.saveWatermarks(ctx, d.RunID); err != nil {
		return err
	}
	bus.Logger(ctx).Info("held plan decided", "decision", d.Decision, "by", d.DecidedBy, "created", res.Counts.Created,
		"updated", res.Counts.Updated, "deactivated", res.Counts.Deactivated, "reactivated", res.Counts.Reactivated, "failed", res.Failed)
	return s.pub.Publish(ctx, res)
}

// completeRun publishes the run's sync.completed once every domain has an
// outcome.
func (s *Service) completeRun(ctx context.Context, runID string) error {
	if err := s.saveWatermarks(ctx, runID); err != nil {
		return err
	}
	ev, err := s.store.CompletedRun(ctx, runID)
	if err != nil || ev == nil {
		return err
	}
	if err := s.pub.Publish(ctx, ev); err != nil {
		return bus.RetryAfter(0, fmt.Errorf("publish sync.completed: %w", err))
	}
	log := bus.RunLogger(ctx)
	metrics.Runs.WithLabelValues(ev.Outcome).Inc()
	for _, d := range ev.Domains {
		for op, n := range map[string]int{events.OpCreate: d.Created, events.OpUpdate: d.Updated, events.OpDeactivate: d.Deactivated, events.OpReactivate: d.Reactivated} {
			metrics.ChangesApplied.WithLabelValues(d.Domain, op).Add(float64(n))
		}
		bus.DomainLogger(ctx, d.Domain).Info("domain finished", "outcome", d.Outcome, "reason", d.Reason, "entries", d.Entries,
			"created", d.Created, "updated", d.Updated, "deactivated", d.Deactivated, "reactivated", d.Reactivated, "unchanged", d.Unchanged,
			"joined", d.Joined, "left", d.Left, "drift", d.Drift, "failed", d.Failed)
	}
	log.Info("run finished", "outcome", ev.Outcome, "created", ev.Totals.Created, "updated", ev.Totals.Updated,
		"deactivated", ev.Totals.Deactivated, "reactivated", ev.Totals.Reactivated, "unchanged", ev.Totals.Unchanged)
	if err := s.store.MarkRunPublished(ctx, runID); err != nil {
		return err
	}
	// After the run, not during it: see accounts.BuildDeferredIndexes.
	if err := s.store.BuildDeferredIndexes(ctx); err != nil {
		log.Warn("deferred index not built; the next run tries again", "err", err)
	}
	return nil
}

// saveWatermarks advances the watermarks of the run's applied domains: the
// next delta read starts where this run's read started.
func (s *Service) saveWatermarks(ctx context.Context, runID string) error {
	marks, err := s.store.UnsavedWatermarks(ctx, runID)
	if err != nil {
		return err
	}
	for _, m := range marks {
		if err := s.marks.Put(ctx, m.Domain, m.Mark); err != nil {
			return err
		}
		if err := s.store.MarkWatermarkSaved(ctx, runID, m.Domain); err != nil {
			return err
		}
	}
	return nil
}

// AddEndpoints adds the admin endpoints to a micro service.
func (s *Service) AddEndpoints(svc micro.Service) error {
	// The read-only queries run side by side on the store's readers.
	reads := natsapi.NewLanes(sqlite.Readers)
	return errors.Join(
		svc.AddEndpoint("accounts-list", natsapi.ConcurrentHandler(reads, func(ctx context.Context, f accounts.ListFilter) (natsapi.AccountsListResponse, error) {
			if f.Limit <= 0 {
				f.Limit = 1000
			}
			// The sequence first: the page then holds every change up to it.
			seq, err := s.store.FeedSeq(ctx)
			if err != nil {
				return natsapi.AccountsListResponse{}, err
			}
			list, err := s.store.List(ctx, f)
			return natsapi.AccountsListResponse{Accounts: list, More: len(list) == f.Limit, FeedSeq: seq}, err
		}), micro.WithEndpointSubject(natsapi.SubjectAccountsList)),
		svc.AddEndpoint("accounts-get", natsapi.ConcurrentHandler(reads, func(ctx context.Context, r natsapi.AccountRequest) (accounts.Account, error) {
			a, err := s.store.Find(ctx, r.Ref)
			return a, holdStatus(err)
		}), micro.WithEndpointSubject(natsapi.SubjectAccountsGet)),
		svc.AddEndpoint("users-query", natsapi.ConcurrentHandler(reads, func(ctx context.Context, q accounts.Query) (accounts.UserPage, error) {
			p, err := s.store.QueryUsers(ctx, q)
			return p, filterStatus(err)
		}), micro.WithEndpointSubject(natsapi.SubjectUsersQuery)),
		svc.AddEndpoint("scim-users", natsapi.ConcurrentHandler(reads, func(ctx context.Context, q accounts.Query) (accounts.SCIMUserRows, error) {
			p, err := s.store.QuerySCIMUsers(ctx, q)
			return p, filterStatus(err)
		}), micro.WithEndpointSubject(natsapi.SubjectSCIMUsers)),
		svc.AddEndpoint("groups-query", natsapi.ConcurrentHandler(reads, func(ctx context.Context, q accounts.Query) (accounts.GroupPage, error) {
			p, err := s.store.QueryGroups(ctx, q)
			return p, filterStatus(err)
		}), micro.WithEndpointSubject(natsapi.SubjectGroupsQuery)),
		svc.AddEndpoint("accounts-deactivate", natsapi.Handler(func(ctx context.Context, r natsapi.AccountRequest) (accounts.Account, error) {
			defer s.kickFeed()
			a, err := s.store.DeactivateLocally(ctx, r.Ref, r.Reason, r.By)
			return a, holdStatus(err)
		}), micro.WithEndpointSubject(natsapi.SubjectAccountsDeactivate)),
		svc.AddEndpoint("accounts-reactivate", natsapi.Handler(func(ctx context.Context, r natsapi.AccountRequest) (accounts.Account, error) {
			defer s.kickFeed()
			a, err := s.store.ReactivateLocally(ctx, r.Ref, r.By)
			return a, holdStatus(err)
		}), micro.WithEndpointSubject(natsapi.SubjectAccountsReactivate)),
		svc.AddEndpoint("runs-report", natsapi.Handler(func(ctx context.Context, r natsapi.RunReportRequest) (*accounts.RunReport, error) {
			return s.store.ReportOf(ctx, r.RunID, r.After, r.Limit, r.Op)
		}), micro.WithEndpointSubject(natsapi.SubjectRunReport)),
	)
}

// holdStatus gives a local-hold error the status the API answers it with.
func holdStatus(err error) error {
	switch {
	case errors.Is(err, accounts.ErrNoAccount):
		return &natsapi.StatusError{Status: "404", Err: err}
	case errors.Is(err, accounts.ErrNoHold):
		return &natsapi.StatusError{Status: "409", Err: err}
	case errors.Is(err, accounts.ErrNoReason):
		return &natsapi.StatusError{Status: "422", Err: err}
	}
	return err
}

// filterStatus answers a filter the store cannot answer with 400.
func filterStatus(err error) error {
	switch {
	case errors.Is(err, accounts.ErrInvalidFilter):
		return &natsapi.StatusError{Status: "400", Err: err}
	case errors.Is(err, accounts.ErrPageBeforeNotRead):
		return &natsapi.StatusError{Status: "409", Err: err}
	}
	return err
}

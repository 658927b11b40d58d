// Package guard is the guard service: it admits or rejects every requested
// run — single sign-on on, job missing or disabled, job from another
// environment, no job server, a run of the job still in progress — listing
// every reason that applies, and holds one lease per job while its run goes.
package guard

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/admission"
	"github.com/adsync/adsync/internal/holds"
	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/internal/jobs"
	"github.com/adsync/adsync/internal/leases"
	"github.com/adsync/adsync/internal/settings"
)

// Config of the guard service.
type Config struct {
	// Domains are the configured domain names (what --all-domains means).
	Domains []string
	// RunLease is how long a run that never finishes blocks its job.
	RunLease time.Duration
	// ServerTTL is how old a job server's heartbeat may be.
	ServerTTL time.Duration
	// Now is the clock of leases; Wall the clock of heartbeats, which are
	// written on the wall clock by every process.
	Now, Wall func() time.Time
}

// Publisher publishes events (the bus).
type Publisher interface {
	Publish(ctx context.Context, evs ...events.Event) error
	// RunCompleted reports whether a run's sync.completed was published.
	RunCompleted(ctx context.Context, runID string) (bool, error)
}

// Stores are the buckets guard reads and writes.
type Stores struct {
	Jobs     *jobs.Store
	Settings *settings.Store
	Leases   *leases.Store
	Servers  jetstream.KeyValue
	Holds    *holds.Store
}

// Service is the guard service.
type Service struct {
	cfg       Config
	stores    Stores
	pub       Publisher
	admission *admission.Checker
}

// New returns the guard service.
func New(cfg Config, stores Stores, pub Publisher) (*Service, error) {
	if len(cfg.Domains) == 0 {
		return nil, errors.New("guard: no domains configured")
	}
	if cfg.RunLease <= 0 {
		cfg.RunLease = 6 * time.Hour
	}
	if cfg.ServerTTL <= 0 {
		cfg.ServerTTL = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Wall == nil {
		cfg.Wall = time.Now
	}
	return &Service{cfg: cfg, stores: stores, pub: pub, admission: &admission.Checker{Jobs: stores.Jobs, Settings: stores.Settings}}, nil
}

// Register adds the service's handlers to a router.
func (s *Service) Register(r *bus.Router) error {
	return errors.Join(
		bus.Handle(r, bus.ConsumerGuardRequested, s.HandleRequested),
		bus.Handle(r, bus.ConsumerGuardCompleted, s.HandleCompleted),
	)
}

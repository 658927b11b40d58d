// Package diff is the diff service: it turns directory pages into account
// changes against its own record of what it last saw, and finds the
// accounts that are gone once a read of a domain completed without error.
package diff

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/holds"
	"github.com/adsync/adsync/internal/infra/bus"
)

// Config of the diff service.
type Config struct {
	// DBPath is diff's state database.
	DBPath string
	// BatchSize bounds the changes per account.changes event.
	BatchSize int
	// StreamFirstSync lets a domain's first sync (no record of the domain,
	// no last good run, not a dry run) have its pages applied as they
	// arrive (events.AccountChanges.ApplyNow) instead of with the whole
	// plan at the end: such a plan has nothing the deletion guard could
	// hold. Config accounts.stream_first_sync (default true).
	StreamFirstSync bool
	// Now is the clock.
	Now func() time.Time
}

// ConfigFromDataDir returns the default config for a data directory.
func ConfigFromDataDir(dataDir string) Config {
	return Config{DBPath: filepath.Join(dataDir, "diff.db")}
}

func (c Config) validate() error {
	if c.DBPath == "" {
		return errors.New("diff: db path is required")
	}
	return nil
}

// Publisher publishes events (the bus).
type Publisher interface {
	Publish(ctx context.Context, evs ...events.Event) error
}

// Directory looks ids up in a domain's directory, whatever the sync's
// scope (job-server readers answer).
type Directory interface {
	Lookup(ctx context.Context, domain string, ids []string) (Found, error)
}

// Found tells where a directory has ids: the DN of each id found, and
// which of those are inside the sync's scope — entries the read missed
// because they changed while it went on, neither removed nor out of scope.
type Found struct {
	DNs     map[string]string
	InScope map[string]bool
}

// Holds records plans held by the deletion guard.
type Holds interface {
	Put(ctx context.Context, p holds.Plan) error
	Get(ctx context.Context, domain string) (*holds.Plan, error)
	Delete(ctx context.Context, domain, runID string) error
}

// Service is the diff service.
type Service struct {
	cfg   Config
	state *State
	pub   Publisher
	dir   Directory
	holds Holds
}

// New opens the state and returns the service.
func New(ctx context.Context, cfg Config, pub Publisher, dir Directory, held Holds) (*Service, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 1000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	st, err := OpenState(ctx, cfg.DBPath, cfg.Now)
	if err != nil {
		return nil, fmt.Errorf("diff: %w", err)
	}
	return &Service{cfg: cfg, state: st, pub: pub, dir: dir, holds: held}, nil
}

// Register adds the service's handlers to a router.
func (s *Service) Register(r *bus.Router) error {
	return errors.Join(
		bus.Handle(r, bus.ConsumerDiffPages, s.HandlePage),
		bus.Handle(r, bus.ConsumerDiffCompleted, s.HandleCompleted),
		bus.Handle(r, bus.ConsumerDiffFailed, s.HandleFailed),
		bus.Handle(r, bus.ConsumerDiffDecided, s.HandleDecided),
	)
}

// Close closes the state.
func (s *Service) Close() error { return s.state.Close() }

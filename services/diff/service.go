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
	"github.com/adsync/adsync/internal/bus"
)

// Config of the diff service.
type Config struct {
	// DBPath is diff's state database.
	DBPath string
	// BatchSize bounds the changes per account.changes event.
	BatchSize int
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

// Service is the diff service.
type Service struct {
	cfg   Config
	state *State
	pub   Publisher
}

// New opens the state and returns the service.
func New(ctx context.Context, cfg Config, pub Publisher) (*Service, error) {
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
	return &Service{cfg: cfg, state: st, pub: pub}, nil
}

// Register adds the service's handlers to a router.
func (s *Service) Register(r *bus.Router) error {
	return errors.Join(
		bus.Handle(r, bus.ConsumerDiffPages, s.HandlePage),
		bus.Handle(r, bus.ConsumerDiffCompleted, s.HandleCompleted),
		bus.Handle(r, bus.ConsumerDiffFailed, s.HandleFailed),
	)
}

// Close closes the state.
func (s *Service) Close() error { return s.state.Close() }

// Package accountwriter is the account-writer service: the single writer of
// the SQLite account store. It applies batches of account changes once
// each, records each domain's outcome, and publishes sync.completed when
// every domain of a run has one.
package accountwriter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go/micro"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/accounts"
	"github.com/adsync/adsync/internal/api"
	"github.com/adsync/adsync/internal/bus"
)

// Config of the account-writer service.
type Config struct {
	// DBPath is the account store.
	DBPath string
	Now    func() time.Time
}

// ConfigFromDataDir returns the default config for a data directory.
func ConfigFromDataDir(dataDir string) Config {
	return Config{DBPath: filepath.Join(dataDir, "accounts.db")}
}

// Publisher publishes events (the bus).
type Publisher interface {
	Publish(ctx context.Context, evs ...events.Event) error
}

// Service is the account-writer service.
type Service struct {
	cfg   Config
	store *accounts.Store
	pub   Publisher
}

// New opens the account store and returns the service.
func New(ctx context.Context, cfg Config, pub Publisher) (*Service, error) {
	if cfg.DBPath == "" {
		return nil, errors.New("account-writer: db path is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	st, err := accounts.Open(ctx, cfg.DBPath, cfg.Now)
	if err != nil {
		return nil, fmt.Errorf("account-writer: %w", err)
	}
	return &Service{cfg: cfg, store: st, pub: pub}, nil
}

// Store returns the account store.
func (s *Service) Store() *accounts.Store { return s.store }

// Register adds the service's handlers to a router.
func (s *Service) Register(r *bus.Router) error {
	return errors.Join(
		bus.Handle(r, bus.ConsumerWriterChanges, s.HandleChanges),
		bus.Handle(r, bus.ConsumerWriterCompleted, s.HandleChangesCompleted),
	)
}

// AddEndpoints adds the admin endpoints to a micro service.
func (s *Service) AddEndpoints(svc micro.Service) error {
	return svc.AddEndpoint("accounts-list", micro.HandlerFunc(func(r micro.Request) {
		var f api.AccountsListRequest
		if err := json.Unmarshal(r.Data(), &f); err != nil {
			api.Respond(r, nil, fmt.Errorf("bad request: %w", err))
			return
		}
		if f.Limit <= 0 {
			f.Limit = 1000
		}
		list, err := s.store.List(context.Background(), f)
		api.Respond(r, api.AccountsListResponse{Accounts: list, More: len(list) == f.Limit}, err)
	}), micro.WithEndpointSubject(api.SubjectAccountsList))
}

// Close closes the store.
func (s *Service) Close() error { return s.store.Close() }

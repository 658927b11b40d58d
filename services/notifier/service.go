// Package notifier is the notifier service: it tells someone when a sync
// is held, failing or stale. It follows the run events (sync.completed,
// sync.rejected, directory.failed) and checks the jobs and dead letters
// every check_every; each alert that a rule of notify.rules names fires
// once per occurrence, and says so again when it is resolved (the next
// good run). Alerts become notification.requested.v1 messages, one per
// channel, which its delivery consumer sends with retries and back-off
// until the receiver takes them.
//
// The notifier is the sole writer of the open alerts (bucket
// adsync_alerts).
package notifier

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/holds"
	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/internal/jobs"
	"github.com/adsync/adsync/internal/notify"
)

// Rule sends the kinds it names, of the jobs it names ("*" every job), to
// its channels.
type Rule struct {
	Kinds, Jobs, Channels []string
}

func (r Rule) matches(kind, job string) bool {
	return slices.Contains(r.Kinds, kind) && (slices.Contains(r.Jobs, "*") || slices.Contains(r.Jobs, job) || len(r.Jobs) == 0)
}

// Config of the notifier.
type Config struct {
	Rules    []Rule
	Channels []notify.Channel
	// ConsoleURL prefixes the links in messages.
	ConsoleURL string
	// StaleAfter overrides "twice the job's interval" for job.stale.
	StaleAfter time.Duration
	// CheckEvery is how often stale jobs and dead letters are checked.
	CheckEvery time.Duration
	Now        func() time.Time
}

// Stores are what the notifier reads (jobs, holds) and writes (alerts).
type Stores struct {
	Jobs   *jobs.Store
	Holds  *holds.Store
	Alerts jetstream.KeyValue
}

// Bus is what the notifier needs of the bus.
type Bus interface {
	Publish(ctx context.Context, evs ...events.Event) error
}

// Service is the notifier.
type Service struct {
	cfg    Config
	stores Stores
	pub    Bus
	js     jetstream.JetStream
	log    *slog.Logger
}

// New returns the notifier.
func New(cfg Config, st Stores, pub Bus, js jetstream.JetStream, log *slog.Logger) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CheckEvery <= 0 {
		cfg.CheckEvery = time.Minute
	}
	return &Service{cfg: cfg, stores: st, pub: pub, js: js, log: log.With("service", "notifier")}
}

// Register adds the notifier's handlers.
func (s *Service) Register(r *bus.Router) error {
	return errors.Join(
		bus.Handle(r, bus.ConsumerNotifyCompleted, s.HandleCompleted),
		bus.Handle(r, bus.ConsumerNotifyRejected, s.HandleRejected),
		bus.Handle(r, bus.ConsumerNotifyFailed, s.HandleFailed),
		bus.Handle(r, bus.ConsumerNotifyDeliver, s.HandleDeliver),
	)
}

func (s *Service) channel(name string) notify.Channel {
	for _, c := range s.cfg.Channels {
		if c.Name() == name {
			return c
		}
	}
	return nil
}

func (s *Service) link(path string) string {
	if s.cfg.ConsoleURL == "" {
		return ""
	}
	return s.cfg.ConsoleURL + path
}

// Run checks for stale jobs and new dead letters every CheckEvery, and
// keeps the job metrics current, until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.CheckEvery)
	defer t.Stop()
	for {
		if err := s.check(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("notifier check failed; trying again", "err", err, "in", s.cfg.CheckEvery.String())
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

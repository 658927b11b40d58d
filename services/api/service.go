// Package api is the HTTP service: a REST API under /api/v1/ for the
// platform and for administrators, with bearer tokens and roles. Like the
// command line it holds no state and reaches the other services over NATS,
// so any number of replicas may run.
//
// This first part serves the accounts (with the account change feed's
// sequence, for snapshot and follow), their local holds and "run a job
// now"; listing and changing jobs, runs, held plans, SCIM and the audit
// log are still to come.
package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/nats-io/nats.go"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/jobs"
)

// Config of the HTTP service.
type Config struct {
	// Listen is host:port; the configuration defaults to loopback.
	Listen string
	// TLSCertFile and TLSKeyFile serve HTTPS only.
	TLSCertFile, TLSKeyFile string
	// Tokens are the API clients.
	Tokens []Token
}

// Token is one API client: Authorization: Bearer <Secret>.
type Token struct {
	Name   string
	Secret string // never logged
	Role   Role
}

func (c Config) validate() error {
	if c.Listen == "" {
		return errors.New("api: http.listen is required")
	}
	if len(c.Tokens) == 0 {
		return errors.New("api: http.tokens is empty: nobody could use the API")
	}
	return nil
}

// Service is the HTTP service.
type Service struct {
	cfg     Config
	nc      *nats.Conn
	pub     Publisher
	jobs    Jobs
	log     *slog.Logger
	handler http.Handler
}

// Publisher publishes events (the bus).
type Publisher interface {
	Publish(ctx context.Context, evs ...events.Event) error
}

// Jobs reads AD Sync Jobs.
type Jobs interface {
	Get(ctx context.Context, name string) (*jobs.Job, uint64, error)
}

// New returns the service; nc reaches the other services' endpoints, pub
// publishes run requests.
func New(cfg Config, nc *nats.Conn, pub Publisher, js Jobs, log *slog.Logger) (*Service, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, nc: nc, pub: pub, jobs: js, log: log.With("service", "api")}
	s.handler = s.routes()
	return s, nil
}

// Handler is the service's HTTP handler (every route).
func (s *Service) Handler() http.Handler { return s.handler }

func (s *Service) routes() http.Handler {
	r := chi.NewRouter()
	r.NotFound(func(w http.ResponseWriter, _ *http.Request) { writeError(w, http.StatusNotFound, "no such route") })
	r.MethodNotAllowed(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusMethodNotAllowed, "method not allowed on this route")
	})
	r.Route("/api/v1", func(r chi.Router) {
		r.Use(s.authenticate)
		r.With(require(RoleViewer)).Get("/openapi.json", serveOpenAPI)
		r.With(require(RoleViewer)).Get("/accounts", s.listAccounts)
		r.With(require(RoleOperator)).Put("/accounts/{domain}/{id}/hold", s.setHold)
		r.With(require(RoleOperator)).Delete("/accounts/{domain}/{id}/hold", s.liftHold)
		r.With(require(RoleOperator)).Post("/jobs/{name}/run", s.runJob)
	})
	return r
}

// Run serves until ctx ends, then shuts down gracefully.
func (s *Service) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("api: listen on %s: %w (set http.listen to a free address)", s.cfg.Listen, err)
	}
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() {
		if s.cfg.TLSCertFile != "" {
			errc <- srv.ServeTLS(ln, s.cfg.TLSCertFile, s.cfg.TLSKeyFile)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	s.log.Info("HTTP API listening", "addr", ln.Addr().String(), "tls", s.cfg.TLSCertFile != "", "tokens", len(s.cfg.Tokens))
	select {
	case err := <-errc:
		return fmt.Errorf("api: %w", err)
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shut)
}

// Package api is the HTTP service: a REST API under /api/v1/ for the
// platform and for administrators, with bearer tokens and roles. Like the
// command line it holds no state and reaches the other services over NATS,
// so any number of replicas may run.
//
// Every change goes through internal/admin, which audits it with the
// token's name as the actor.
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
	"github.com/nats-io/nats.go/jetstream"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/admin"
	"github.com/adsync/adsync/internal/natsapi"
	"github.com/adsync/adsync/internal/presence"
	"github.com/adsync/adsync/internal/signin"
	"github.com/adsync/adsync/services/account-writer/accounts"
	"github.com/adsync/adsync/services/api/console"
)

// Config of the HTTP service.
type Config struct {
	// Listen is host:port; the configuration defaults to loopback.
	Listen string
	// TLSCertFile and TLSKeyFile serve HTTPS only.
	TLSCertFile, TLSKeyFile string
	// Tokens are the API clients.
	Tokens []Token
	// Directories let directory users sign in to the console.
	Directories []console.Directory
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
	ops     *admin.Ops
	servers Servers
	console *console.Console
	ahead   *readAhead // SCIM user pages
	log     *slog.Logger
	handler http.Handler
}

// Servers lists the live adsync processes (presence heartbeats).
type Servers func(ctx context.Context) ([]presence.Heartbeat, error)

// New returns the service; ops does what administrators do (and audits
// it), sessions keeps the console's sign-ins, servers lists the job
// servers, alerts is the notifier's bucket of open alerts (read only).
func New(cfg Config, ops *admin.Ops, sessions *signin.Sessions, servers Servers, alerts jetstream.KeyValue, log *slog.Logger) (*Service, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	log = log.With("service", "api")
	s := &Service{cfg: cfg, ops: ops, servers: servers, log: log,
		console: console.New(console.Config{Ops: ops, Sessions: sessions, Servers: servers, Secure: cfg.TLSCertFile != "",
			Directories: cfg.Directories, Alerts: alerts, Log: log})}
	s.ahead = newReadAhead(func(ctx context.Context, q accounts.Query) (accounts.SCIMUserPage, error) {
		return natsapi.RequestLarge[accounts.SCIMUserPage](ctx, ops.NC, natsapi.SubjectSCIMUsers, "account-writer", q)
	}, time.Now)
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
	viewer, operator, admin := require(RoleViewer), require(RoleOperator), require(RoleAdmin)
	r.Route("/api/v1", func(r chi.Router) {
		r.Use(s.authenticate)
		r.With(viewer).Get("/openapi.json", serveOpenAPI)

		r.With(viewer).Get("/jobs", s.listJobs)
		r.With(admin).Post("/jobs", s.createJob)
		r.With(viewer).Get("/jobs/{name}", s.getJob)
		r.With(admin).Patch("/jobs/{name}", s.patchJob)
		r.With(admin).Delete("/jobs/{name}", s.deleteJob)
		r.With(operator).Post("/jobs/{name}/run", s.runJob)
		r.With(viewer).Get("/jobs/{name}/runs", s.jobRuns)

		r.With(viewer).Get("/runs/{id}", s.getRun)
		r.With(operator).Post("/runs/{id}/approve", s.decide(events.DecisionApprove))
		r.With(operator).Post("/runs/{id}/discard", s.decide(events.DecisionDiscard))
		r.With(viewer).Get("/held", s.listHeld)

		r.With(viewer).Get("/accounts", s.listAccounts)
		r.With(viewer).Get("/accounts/{domain}/{id}", s.getAccount)
		r.With(operator).Put("/accounts/{domain}/{id}/hold", s.setHold)
		r.With(operator).Delete("/accounts/{domain}/{id}/hold", s.liftHold)
		r.With(viewer).Get("/drift", s.listDrift)

		r.With(viewer).Get("/sso", s.getSSO)
		r.With(admin).Put("/sso/{kind}", s.putSSO)

		r.With(viewer).Get("/deadletters", s.listDeadLetters)
		r.With(viewer).Get("/deadletters/{seq}", s.getDeadLetter)
		r.With(admin).Post("/deadletters/{seq}/replay", s.replayDeadLetter)
		r.With(admin).Delete("/deadletters/{seq}", s.purgeDeadLetter)

		r.With(viewer).Get("/servers", s.listServers)
		r.With(viewer).Get("/audit", s.listAudit)
	})
	r.Route("/scim/v2", func(r chi.Router) {
		r.Use(s.authenticate)
		r.Group(s.scimRoutes)
	})
	r.Group(s.console.Routes)
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

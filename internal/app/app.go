// Package app runs adsync's services in one process: all five with an
// embedded NATS server (`adsync run`), or any one of them against a NATS
// server or cluster (`adsync serve SERVICE`).
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/micro"

	"github.com/adsync/adsync/internal/admission"
	"github.com/adsync/adsync/internal/bus"
	"github.com/adsync/adsync/internal/config"
	"github.com/adsync/adsync/internal/cpusched"
	"github.com/adsync/adsync/internal/embeddednats"
	"github.com/adsync/adsync/internal/metrics"
	"github.com/adsync/adsync/internal/presence"
	accountwriter "github.com/adsync/adsync/services/account-writer"
	"github.com/adsync/adsync/services/api"
	"github.com/adsync/adsync/services/diff"
	directoryreader "github.com/adsync/adsync/services/directory-reader"
	"github.com/adsync/adsync/services/guard"
	"github.com/adsync/adsync/services/tick"
)

// Service names.
const (
	Tick            = "tick"
	Guard           = "guard"
	DirectoryReader = "directory-reader"
	Diff            = "diff"
	AccountWriter   = "account-writer"
	Notifier        = "notifier"
)

// AllServices lists the pipeline's services in order.
var AllServices = []string{Tick, Guard, DirectoryReader, Diff, AccountWriter}

// API is the HTTP service (services/api): `adsync serve api`, and part of
// `adsync run` when http.listen is set.
const API = "api"

// Services lists every service `adsync serve` runs: the pipeline's, the
// notifier (alerts; part of `adsync run`) and the HTTP API.
var Services = append(slices.Clone(AllServices), Notifier, API)

// Options say what to run.
type Options struct {
	Config *config.File
	Env    config.Env
	// Services to run; AllServices for `adsync run`.
	Services []string
	// Embed starts an embedded NATS server (when the config has no nats.url).
	Embed   bool
	Log     *slog.Logger
	Version string
	// Now is the clock (tests may inject one).
	Now func() time.Time
	// Ready, if set, is called once every handler is subscribed.
	Ready func()
	// MetricsListen serves metrics and health (overrides the config).
	MetricsListen string
}

// Run runs the services until ctx ends, then drains and returns nil.
func Run(ctx context.Context, o Options) error {
	cfg := o.Config
	log := o.Log
	if o.Now == nil {
		o.Now = time.Now
	}
	applyMemoryPolicy(log, o.Env)
	applyCPUScheduling(log, cpusched.Policy(cfg.Process.CPUScheduling))
	for _, s := range o.Services {
		if !slices.Contains(Services, s) {
			return fmt.Errorf("unknown service %q: use one of %s", s, strings.Join(Services, ", "))
		}
	}
	has := func(s string) bool { return slices.Contains(o.Services, s) }
	jobServer := cfg.IsJobServer()

	// Everything a service needs is checked before anything starts.
	var readerCfg directoryreader.Config
	if has(DirectoryReader) && jobServer {
		dirs, err := cfg.Directories(o.Env)
		if err != nil {
			return err
		}
		readerCfg = directoryreader.Config{Domains: dirs, MaxEntriesPerEvent: cfg.Reader.EntriesPerEvent, Now: o.Now}
	}
	natsOpts, err := cfg.BusOptions(o.Env)
	if err != nil {
		return err
	}
	var apiCfg api.Config
	if has(API) {
		if apiCfg, err = cfg.APIConfig(o.Env); err != nil {
			return err
		}
	}

	if o.Embed {
		if natsOpts.Token == "" {
			if natsOpts.Token, err = cfg.EmbeddedToken(true); err != nil {
				return err
			}
		}
		srv, err := embeddednats.Start(embeddednats.Options{StoreDir: filepath.Join(cfg.DataDir, "nats"), Listen: cfg.NATS.Listen,
			User: natsOpts.User, Password: natsOpts.Password, Token: natsOpts.Token,
			CertFile: cfg.NATS.ServerCertFile, KeyFile: cfg.NATS.ServerKeyFile})
		if err != nil {
			return err
		}
		defer srv.Shutdown()
		if cfg.NATS.ServerCertFile == "" {
			natsOpts.URL = srv.ClientURL()
		}
		log.Info("embedded NATS server started", "url", natsOpts.URL, "store_dir", filepath.Join(cfg.DataDir, "nats"))
	}
	natsOpts.Name = "adsync " + strings.Join(o.Services, ",")
	b, err := bus.Connect(ctx, natsOpts, cfg.Topology(), log)
	if err != nil {
		return err
	}
	defer b.Close()
	if cfg.ShouldProvision() || o.Embed {
		if err := b.Provision(ctx); err != nil {
			return err
		}
	} else if err := b.CheckProvisioned(ctx); err != nil {
		return err
	}

	st, err := OpenStores(ctx, b)
	if err != nil {
		return err
	}

	router, err := b.NewRouter(strings.Join(o.Services, ","))
	if err != nil {
		return err
	}
	var closers []func() error
	defer func() {
		for i := len(closers) - 1; i >= 0; i-- {
			if err := closers[i](); err != nil {
				log.Warn("close", "err", err)
			}
		}
	}()
	var background []func(context.Context) error
	var microServices []micro.Service
	defer func() {
		for _, m := range microServices {
			_ = m.Stop()
		}
	}()
	addMicro := func(service string) (micro.Service, error) {
		var consumers []string
		for _, c := range bus.Consumers() {
			if c.Service == service {
				consumers = append(consumers, c.Durable)
			}
		}
		status := func() any {
			return map[string]any{"service": service, "job_server": jobServer, "consumers": bus.Stats(consumers)}
		}
		m, err := micro.AddService(b.NC, micro.Config{
			Name: "adsync-" + service, Version: versionOr(o.Version), Description: "adsync " + service,
			Metadata:     map[string]string{"job_server": fmt.Sprint(jobServer), "host": hostname()},
			StatsHandler: func(*micro.Endpoint) any { return status() },
		})
		if err != nil {
			return nil, fmt.Errorf("register %s with the NATS service framework: %w", service, err)
		}
		// Every instance answers its status (its consumers' counters).
		if err := m.AddEndpoint("status", micro.HandlerFunc(func(r micro.Request) { _ = r.RespondJSON(status()) }),
			micro.WithEndpointSubject("adsync.api.status."+service)); err != nil {
			return nil, err
		}
		microServices = append(microServices, m)
		return m, nil
	}

	for _, svc := range o.Services {
		m, err := addMicro(svc)
		if err != nil {
			return err
		}
		switch svc {
		case Tick:
			if !jobServer {
				log.Info("tick idle: this process is not a job server (job_server: false)")
				continue
			}
			t := tick.New(tick.Config{Now: o.Now}, st.JobsKV, st.Ticks, b, log)
			background = append(background, t.Run)
		case Guard:
			g, err := guard.New(guard.Config{Domains: cfg.DomainNames(), RunLease: cfg.Guard.RunLease.D(), ServerTTL: b.Topology.ServerTTL, Now: o.Now},
				guard.Stores{Jobs: st.Jobs, Settings: st.Settings, Leases: st.Leases, Servers: st.Servers, Holds: st.Holds}, b)
			if err != nil {
				return err
			}
			if err := g.Register(router); err != nil {
				return err
			}
		case DirectoryReader:
			if !jobServer {
				log.Info("directory-reader idle: this process is not a job server (job_server: false)")
				continue
			}
			readerCfg.MaxBytesPerEvent = directoryreader.BytesPerEvent(b.NC.MaxPayload())
			r, err := directoryreader.New(readerCfg, b, nil, st.Marks, &admission.Checker{Jobs: st.Jobs, Settings: st.Settings})
			if err != nil {
				return err
			}
			if err := r.Register(router); err != nil {
				return err
			}
			if err := r.AddEndpoints(m); err != nil {
				return err
			}
		case Diff:
			dcfg := diff.ConfigFromDataDir(cfg.DataDir)
			dcfg.Now = o.Now
			dcfg.StreamFirstSync = cfg.Accounts.StreamsFirstSync()
			d, err := diff.New(ctx, dcfg, b, lookupClient{nc: b.NC}, st.Holds)
			if err != nil {
				return err
			}
			closers = append(closers, d.Close)
			if err := d.Register(router); err != nil {
				return err
			}
		case Notifier:
			n, err := newNotifier(ctx, cfg, o, b, st, log)
			if err != nil {
				return err
			}
			if err := n.Register(router); err != nil {
				return err
			}
			background = append(background, n.Run)
		case API:
			if err := st.OpenConsole(ctx, b); err != nil {
				return err
			}
			servers := func(ctx context.Context) ([]presence.Heartbeat, error) {
				return presence.List(ctx, st.Servers, time.Now(), b.Topology.ServerTTL)
			}
			alerts, err := b.KVOrCreate(ctx, bus.BucketAlerts)
			if err != nil {
				return err
			}
			a, err := api.New(apiCfg, NewOps(b, st, cfg.DomainNames(), o.Now), st.Sessions, servers, alerts, log)
			if err != nil {
				return err
			}
			background = append(background, a.Run)
		case AccountWriter:
			wcfg := accountwriter.ConfigFromDataDir(cfg.DataDir)
			wcfg.Now = o.Now
			wcfg.Store = cfg.AccountsOptions()
			w, err := accountwriter.New(ctx, wcfg, b, st.Marks)
			if err != nil {
				return err
			}
			closers = append(closers, w.Close)
			// The feed's relay has a connection of its own: a first sync
			// publishes as many feed messages as accounts, and the run's
			// own events should not queue behind them on one connection.
			feedOpts := natsOpts
			feedOpts.Name = "adsync account-writer feed"
			fb, err := bus.Connect(ctx, feedOpts, cfg.Topology(), log)
			if err != nil {
				return err
			}
			defer fb.Close()
			background = append(background, func(ctx context.Context) error { return w.RelayFeed(ctx, fb) })
			if err := w.Register(router); err != nil {
				return err
			}
			if err := w.AddEndpoints(m); err != nil {
				return err
			}
		}
	}

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var mine []bus.ConsumerSpec
	for _, c := range bus.Consumers() {
		if has(c.Service) {
			mine = append(mine, c)
		}
	}
	background = append(background,
		func(ctx context.Context) error { return b.WatchMaxDeliveries(ctx, mine, log) },
		func(ctx context.Context) error { b.WatchLag(ctx, mine, 10*time.Second); return nil },
	)
	var running atomic.Bool
	if addr := orDefault(o.MetricsListen, cfg.Metrics.Listen); addr != "" {
		background = append(background, func(ctx context.Context) error {
			return metrics.Serve(ctx, addr, func() error {
				if !b.NC.IsConnected() {
					return errors.New("not connected to NATS")
				}
				if !running.Load() {
					return errors.New("handlers not running yet")
				}
				return nil
			})
		})
		log.Info("serving metrics and health", "addr", addr)
	}
	var wg sync.WaitGroup
	errc := make(chan error, len(background)+2)
	hb := presence.Heartbeat{ID: heartbeatID(), Host: hostname(), PID: os.Getpid(), Services: o.Services, JobServer: jobServer, Version: versionOr(o.Version)}
	if err := presence.Put(ctx, st.Servers, hb, time.Now()); err != nil {
		return err
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		presence.Beat(runCtx, st.Servers, hb, b.Topology.ServerTTL/3, time.Now, log)
	}()
	for _, fn := range background {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(runCtx); err != nil {
				errc <- err
				stop()
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := router.Run(runCtx); err != nil {
			errc <- err
			stop()
		}
	}()
	go func() {
		select {
		case <-router.Running():
			running.Store(true)
			log.Info("adsync is running", "services", strings.Join(o.Services, ","), "job_server", jobServer)
			if o.Ready != nil {
				o.Ready()
			}
		case <-runCtx.Done():
		}
	}()
	<-runCtx.Done()
	log.Info("shutting down: draining in-flight messages")
	_ = router.Close()
	wg.Wait()
	close(errc)
	var errs []error
	for err := range errc {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func versionOr(v string) string {
	if v == "" {
		return "0.0.0-dev"
	}
	return v
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}

func heartbeatID() string {
	return fmt.Sprintf("%s-%d-%d", strings.ReplaceAll(hostname(), ".", "_"), os.Getpid(), time.Now().UnixNano())
}

// applyCPUScheduling sets the process's CPU scheduling policy. A system
// that refuses it (another OS, a system call filter) costs speed, not
// correctness: the services run on, and the log says why.
func applyCPUScheduling(log *slog.Logger, p cpusched.Policy) {
	res, err := cpusched.Apply(p)
	switch {
	case err != nil:
		log.Warn("process.cpu_scheduling: could not set the policy; the threads keep the one adsync was started with", "wanted", p, "err", err,
			"hint", "allow sched_setattr, or set the policy when starting adsync (systemd: CPUSchedulingPolicy=batch; chrt -b 0)")
	case p == cpusched.Batch:
		log.Debug("cpu scheduling", "policy", p, "threads_set", res.Threads, "already", res.Already)
	}
}

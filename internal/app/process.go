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
	"github.com/adsync/adsync/internal/config"
	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/internal/infra/embeddednats"
	"github.com/adsync/adsync/internal/infra/metrics"
	"github.com/adsync/adsync/internal/presence"
	accountwriter "github.com/adsync/adsync/services/account-writer"
	"github.com/adsync/adsync/services/api"
	"github.com/adsync/adsync/services/diff"
	directoryreader "github.com/adsync/adsync/services/directory-reader"
	"github.com/adsync/adsync/services/guard"
	"github.com/adsync/adsync/services/tick"
)

// process is one adsync process while Run runs it: what every service
// needs, checked before anything starts, then the connection, the
// services' handlers and what runs beside them, closed in reverse order.
type process struct {
	o         Options
	cfg       *config.File
	log       *slog.Logger
	jobServer bool
	readerCfg directoryreader.Config
	natsOpts  bus.Options
	apiCfg    api.Config

	b      *bus.Bus
	st     *Stores
	router *bus.Router
	// micros are stopped first when the process ends (no request reaches
	// a closed store), then closers run in reverse order.
	micros  []micro.Service
	closers []func() error
	// background runs beside the handlers until the process stops.
	background []func(context.Context) error
}

// prepare checks everything the services need before anything starts.
func prepare(o Options) (*process, error) {
	p := &process{o: o, cfg: o.Config, log: o.Log, jobServer: o.Config.IsJobServer()}
	for _, s := range o.Services {
		if !slices.Contains(Services, s) {
			return nil, fmt.Errorf("unknown service %q: use one of %s", s, strings.Join(Services, ", "))
		}
	}
	if p.has(DirectoryReader) && p.jobServer {
		dirs, err := p.cfg.Directories(o.Env)
		if err != nil {
			return nil, err
		}
		p.readerCfg = directoryreader.Config{Domains: dirs, MaxEntriesPerEvent: p.cfg.Reader.EntriesPerEvent, Now: o.Now}
	}
	var err error
	if p.natsOpts, err = p.cfg.BusOptions(o.Env); err != nil {
		return nil, err
	}
	if p.has(API) {
		if p.apiCfg, err = p.cfg.APIConfig(o.Env); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (p *process) has(service string) bool { return slices.Contains(p.o.Services, service) }

func (p *process) onClose(fn func() error) { p.closers = append(p.closers, fn) }

func (p *process) close() {
	for _, m := range p.micros {
		_ = m.Stop()
	}
	for i := len(p.closers) - 1; i >= 0; i-- {
		if err := p.closers[i](); err != nil {
			p.log.Warn("close", "err", err)
		}
	}
}

// connect starts the embedded NATS server if asked, connects, provisions
// (or checks) the topology, opens the stores and the router.
func (p *process) connect(ctx context.Context) error {
	if p.o.Embed {
		if err := p.embed(); err != nil {
			return err
		}
	}
	p.natsOpts.Name = "adsync " + strings.Join(p.o.Services, ",")
	b, err := bus.Connect(ctx, p.natsOpts, p.cfg.Topology(), p.log)
	if err != nil {
		return err
	}
	p.b = b
	p.onClose(b.Close)
	if p.cfg.ShouldProvision() || p.o.Embed {
		if err := b.Provision(ctx); err != nil {
			return err
		}
	} else if err := b.CheckProvisioned(ctx); err != nil {
		return err
	}
	if p.st, err = OpenStores(ctx, b); err != nil {
		return err
	}
	p.router, err = b.NewRouter(strings.Join(p.o.Services, ","))
	return err
}

// embed starts the embedded NATS server, with the generated token unless
// credentials are configured.
func (p *process) embed() error {
	var err error
	if p.natsOpts.Token == "" {
		if p.natsOpts.Token, err = p.cfg.EmbeddedToken(true); err != nil {
			return err
		}
	}
	storeDir := filepath.Join(p.cfg.DataDir, "nats")
	srv, err := embeddednats.Start(embeddednats.Options{StoreDir: storeDir, Listen: p.cfg.NATS.Listen,
		User: p.natsOpts.User, Password: p.natsOpts.Password, Token: p.natsOpts.Token,
		CertFile: p.cfg.NATS.ServerCertFile, KeyFile: p.cfg.NATS.ServerKeyFile})
	if err != nil {
		return err
	}
	p.onClose(func() error { srv.Shutdown(); return nil })
	if p.cfg.NATS.ServerCertFile == "" {
		p.natsOpts.URL = srv.ClientURL()
	}
	p.log.Info("embedded NATS server started", "url", p.natsOpts.URL, "store_dir", storeDir)
	return nil
}

// addMicro registers a service with the NATS service framework; every
// instance answers its status (its consumers' counters).
func (p *process) addMicro(service string) (micro.Service, error) {
	var consumers []string
	for _, c := range bus.Consumers() {
		if c.Service == service {
			consumers = append(consumers, c.Durable)
		}
	}
	status := func() any {
		return map[string]any{"service": service, "job_server": p.jobServer, "consumers": bus.Stats(consumers)}
	}
	m, err := micro.AddService(p.b.NC, micro.Config{
		Name: "adsync-" + service, Version: versionOr(p.o.Version), Description: "adsync " + service,
		Metadata:     map[string]string{"job_server": fmt.Sprint(p.jobServer), "host": hostname()},
		StatsHandler: func(*micro.Endpoint) any { return status() },
	})
	if err != nil {
		return nil, fmt.Errorf("register %s with the NATS service framework: %w", service, err)
	}
	p.micros = append(p.micros, m)
	if err := m.AddEndpoint("status", micro.HandlerFunc(func(r micro.Request) { _ = r.RespondJSON(status()) }),
		micro.WithEndpointSubject("adsync.api.status."+service)); err != nil {
		return nil, err
	}
	return m, nil
}

// start sets one service up: its handlers on the router, its endpoints,
// what it runs in the background.
func (p *process) start(ctx context.Context, svc string) error {
	m, err := p.addMicro(svc)
	if err != nil {
		return err
	}
	cfg, o, b, st := p.cfg, p.o, p.b, p.st
	switch svc {
	case Tick:
		if !p.jobServer {
			p.log.Info("tick idle: this process is not a job server (job_server: false)")
			return nil
		}
		t := tick.New(tick.Config{Now: o.Now}, st.JobsKV, st.Ticks, b, p.log)
		p.background = append(p.background, t.Run)
	case Guard:
		g, err := guard.New(guard.Config{Domains: cfg.DomainNames(), RunLease: cfg.Guard.RunLease.D(), ServerTTL: b.Topology.ServerTTL, Now: o.Now},
			guard.Stores{Jobs: st.Jobs, Settings: st.Settings, Leases: st.Leases, Servers: st.Servers, Holds: st.Holds}, b)
		if err != nil {
			return err
		}
		return g.Register(p.router)
	case DirectoryReader:
		if !p.jobServer {
			p.log.Info("directory-reader idle: this process is not a job server (job_server: false)")
			return nil
		}
		p.readerCfg.MaxBytesPerEvent = directoryreader.BytesPerEvent(b.NC.MaxPayload())
		r, err := directoryreader.New(p.readerCfg, b, nil, st.Marks, &admission.Checker{Jobs: st.Jobs, Settings: st.Settings})
		if err != nil {
			return err
		}
		if err := r.Register(p.router); err != nil {
			return err
		}
		return r.AddEndpoints(m)
	case Diff:
		dcfg := diff.ConfigFromDataDir(cfg.DataDir)
		dcfg.Now = o.Now
		dcfg.StreamFirstSync = cfg.Accounts.StreamsFirstSync()
		d, err := diff.New(ctx, dcfg, b, lookupClient{nc: b.NC}, st.Holds)
		if err != nil {
			return err
		}
		p.onClose(d.Close)
		return d.Register(p.router)
	case Notifier:
		n, err := newNotifier(ctx, cfg, o, b, st, p.log)
		if err != nil {
			return err
		}
		if err := n.Register(p.router); err != nil {
			return err
		}
		p.background = append(p.background, n.Run)
	case API:
		return p.startAPI(ctx)
	case AccountWriter:
		return p.startAccountWriter(ctx, m)
	}
	return nil
}

func (p *process) startAPI(ctx context.Context) error {
	b, st := p.b, p.st
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
	a, err := api.New(p.apiCfg, NewOps(b, st, p.cfg.DomainNames(), p.o.Now), st.Sessions, servers, alerts, p.log)
	if err != nil {
		return err
	}
	p.background = append(p.background, a.Run)
	return nil
}

func (p *process) startAccountWriter(ctx context.Context, m micro.Service) error {
	wcfg := accountwriter.ConfigFromDataDir(p.cfg.DataDir)
	wcfg.Now = p.o.Now
	wcfg.Store = p.cfg.AccountsOptions()
	w, err := accountwriter.New(ctx, wcfg, p.b, p.st.Marks)
	if err != nil {
		return err
	}
	p.onClose(w.Close)
	// The feed's relay has a connection of its own: a first sync
	// publishes as many feed messages as accounts, and the run's own
	// events should not queue behind them on one connection.
	feedOpts := p.natsOpts
	feedOpts.Name = "adsync account-writer feed"
	fb, err := bus.Connect(ctx, feedOpts, p.cfg.Topology(), p.log)
	if err != nil {
		return err
	}
	p.onClose(fb.Close)
	p.background = append(p.background, func(ctx context.Context) error { return w.RelayFeed(ctx, fb) })
	if err := w.Register(p.router); err != nil {
		return err
	}
	return w.AddEndpoints(m)
}

// run runs the handlers and the background work until ctx ends or one of
// them fails, then drains.
func (p *process) run(ctx context.Context) error {
	b, log := p.b, p.log
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var mine []bus.ConsumerSpec
	for _, c := range bus.Consumers() {
		if p.has(c.Service) {
			mine = append(mine, c)
		}
	}
	background := append(p.background,
		func(ctx context.Context) error { return b.WatchMaxDeliveries(ctx, mine, log) },
		func(ctx context.Context) error { b.WatchLag(ctx, mine, 10*time.Second); return nil },
	)
	var running atomic.Bool
	if addr := orDefault(p.o.MetricsListen, p.cfg.Metrics.Listen); addr != "" {
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
	hb := presence.Heartbeat{ID: heartbeatID(), Host: hostname(), PID: os.Getpid(), Services: p.o.Services, JobServer: p.jobServer, Version: versionOr(p.o.Version)}
	if err := presence.Put(ctx, p.st.Servers, hb, time.Now()); err != nil {
		return err
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		presence.Beat(runCtx, p.st.Servers, hb, b.Topology.ServerTTL/3, time.Now, log)
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
		if err := p.router.Run(runCtx); err != nil {
			errc <- err
			stop()
		}
	}()
	go func() {
		select {
		case <-p.router.Running():
			running.Store(true)
			log.Info("adsync is running", "services", strings.Join(p.o.Services, ","), "job_server", p.jobServer)
			if p.o.Ready != nil {
				p.o.Ready()
			}
		case <-runCtx.Done():
		}
	}()
	<-runCtx.Done()
	log.Info("shutting down: draining in-flight messages")
	_ = p.router.Close()
	wg.Wait()
	close(errc)
	var errs []error
	for err := range errc {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

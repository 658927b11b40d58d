// Package app runs adsync's services in one process: all five with an
// embedded NATS server (`adsync run`), or any one of them against a NATS
// server or cluster (`adsync serve SERVICE`).
package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/adsync/adsync/internal/config"
	"github.com/adsync/adsync/internal/infra/cpusched"
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
	if o.Now == nil {
		o.Now = time.Now
	}
	applyMemoryPolicy(o.Log, o.Env)
	applyCPUScheduling(o.Log, cpusched.Policy(o.Config.Process.CPUScheduling))
	p, err := prepare(o)
	if err != nil {
		return err
	}
	defer p.close()
	if err := p.connect(ctx); err != nil {
		return err
	}
	for _, svc := range o.Services {
		if err := p.start(ctx, svc); err != nil {
			return err
		}
	}
	return p.run(ctx)
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

package cli

import (
	"log/slog"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/adsync/adsync/internal/app"
	"github.com/adsync/adsync/internal/config"
	"github.com/adsync/adsync/internal/infra/bus"
)

func (c *cli) runCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run every service (and, unless nats.url is set, an embedded NATS server) until SIGINT/SIGTERM; run show|held|approve|discard inspect runs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := c.loadConfig()
			if err != nil {
				return err
			}
			services := append(slices.Clone(app.AllServices), app.Notifier)
			if cfg.HTTP.Listen != "" {
				services = app.Services // and the HTTP API
			}
			return c.serve(cmd, cfg, services, cfg.NATS.URL == "")
		},
	}
	cmd.AddCommand(c.runSubcommands()...)
	profileFlags(cmd)
	return cmd
}

func (c *cli) serveCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:       "serve SERVICE",
		Short:     "Run one service alone: " + strings.Join(app.Services, ", "),
		Args:      cobra.ExactArgs(1),
		ValidArgs: app.Services,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := c.loadConfig()
			if err != nil {
				return err
			}
			return c.serve(cmd, cfg, args, false)
		},
	}
	profileFlags(cmd)
	return cmd
}

func (c *cli) serve(cmd *cobra.Command, cfg *config.File, services []string, embed bool) error {
	log := newLogger(c.env.Stderr, cfg.Log)
	stopProfiles, err := startProfiles(cmd)
	if err != nil {
		return err
	}
	defer stopProfiles(log)
	metricsAddr, _ := cmd.Flags().GetString("metrics")
	err = app.Run(cmd.Context(), app.Options{
		Config: cfg, Env: c.env.LookupEnv, Services: services, Embed: embed, Log: log,
		Version: Version, Now: c.env.Now, Ready: c.env.Ready, MetricsListen: metricsAddr,
	})
	if err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

func newLogger(w interface{ Write([]byte) (int, error) }, l config.Log) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(l.Level))
	opts := &slog.HandlerOptions{Level: level}
	if l.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func (c *cli) provisionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "provision",
		Short: "Create or update adsync's streams, buckets and consumers (as a NATS administrator), then exit",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := c.loadConfig()
			if err != nil {
				return err
			}
			opts, err := cfg.BusOptions(c.env.LookupEnv)
			if err != nil {
				return err
			}
			opts.Name = "adsync provision"
			b, err := bus.Connect(cmd.Context(), opts, cfg.Topology(), newLogger(c.env.Stderr, cfg.Log))
			if err != nil {
				return err
			}
			defer b.Close()
			if err := b.Provision(cmd.Context()); err != nil {
				return err
			}
			c.out("provisioned: streams, buckets and consumers with %d replica(s)\n", cfg.NATS.Replicas)
			return nil
		},
	}
}

func (c *cli) configCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Check the configuration file"}
	cmd.AddCommand(&cobra.Command{
		Use:   "check",
		Short: "Validate the configuration and read its secrets, without contacting anything",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := c.loadConfig()
			if err != nil {
				return err
			}
			if _, err := cfg.Directories(c.env.LookupEnv); err != nil {
				return err
			}
			if _, err := cfg.BusOptions(c.env.LookupEnv); err != nil {
				return err
			}
			c.out("config %s is valid: %d domain(s): %s\n", cfg.Path(), len(cfg.Domains), strings.Join(cfg.DomainNames(), ", "))
			return nil
		},
	})
	return cmd
}

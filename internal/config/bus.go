package config

import (
	"path/filepath"

	"github.com/adsync/adsync/internal/infra/bus"
)

// BusOptions returns how to reach NATS, reading its secrets.
func (f *File) BusOptions(env Env) (bus.Options, error) {
	o := bus.Options{
		URL: f.NATS.URL, User: f.NATS.User, CredsFile: f.NATS.CredsFile, NKeyFile: f.NATS.NKeyFile,
		CAFile: f.NATS.CAFile, CertFile: f.NATS.CertFile, KeyFile: f.NATS.KeyFile,
	}
	if o.URL == "" {
		o.URL = "nats://" + f.NATS.Listen
		if f.NATS.ServerCertFile != "" {
			o.URL = "tls://" + f.NATS.Listen
		}
	}
	var err error
	if o.Password, err = Secret(f.NATS.PasswordFile, f.NATS.PasswordEnv, env); err != nil {
		return o, err
	}
	if o.Token, err = Secret(f.NATS.TokenFile, f.NATS.TokenEnv, env); err != nil {
		return o, err
	}
	if o.Token == "" {
		// The embedded server's generated token, once adsync run made it.
		if o.Token, err = f.EmbeddedToken(false); err != nil {
			return o, err
		}
	}
	return o, nil
}

// Topology returns the stream and consumer sizing.
func (f *File) Topology() bus.TopologyOptions {
	return bus.TopologyOptions{Replicas: f.NATS.Replicas, AckWait: f.NATS.AckWait.D(), History: f.NATS.History.D(), FeedMaxAge: f.Feed.MaxAge.D(), AuditMaxAge: f.Audit.MaxAge.D()}
}

// BusIdentity names who the command line is on NATS, for the audit log:
// the NATS user, credentials or key it authenticates with. NATS checked
// them, so the name is not self-reported.
func (f *File) BusIdentity() string {
	n := f.NATS
	switch {
	case n.User != "":
		return "nats user " + n.User
	case n.CredsFile != "":
		return "nats credentials " + filepath.Base(n.CredsFile)
	case n.NKeyFile != "":
		return "nats nkey " + filepath.Base(n.NKeyFile)
	case n.TokenFile != "" || n.TokenEnv != "":
		return "nats token"
	case n.URL == "" && !n.AllowAnonymous:
		return "local administrator (" + f.EmbeddedTokenFile() + ")"
	}
	return "anonymous"
}

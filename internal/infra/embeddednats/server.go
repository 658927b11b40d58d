// Package embeddednats runs a NATS server with JetStream inside the adsync
// process: the one-machine default of `adsync run`.
package embeddednats

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Options configure the embedded server.
type Options struct {
	// StoreDir holds JetStream's files.
	StoreDir string
	// Listen is the client address, host:port; default 127.0.0.1:4222.
	Listen string
	// Auth, optional: clients must present this user/password or token.
	User, Password, Token string
	// TLS, optional: serve clients over TLS with this certificate.
	CertFile, KeyFile, CAFile string
	// SyncAlways makes JetStream fsync every write (slower, survives power loss).
	SyncAlways bool
	// ServerName; default "adsync-embedded".
	ServerName string
}

// Server is a running embedded NATS server.
type Server struct {
	ns *server.Server
}

// Start starts the server and waits until it accepts clients.
func Start(o Options) (*Server, error) {
	if o.StoreDir == "" {
		return nil, errors.New("embedded NATS: a JetStream store directory is required")
	}
	if o.Listen == "" {
		o.Listen = "127.0.0.1:4222"
	}
	host, portStr, err := net.SplitHostPort(o.Listen)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS: listen address %q: %w", o.Listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS: listen port %q: %w", portStr, err)
	}
	if port > 0 {
		// Fail fast and clearly when the port is taken (the server itself
		// would only log it).
		l, err := net.Listen("tcp", o.Listen)
		if err != nil {
			return nil, fmt.Errorf("embedded NATS cannot listen on %s: %w (set nats.listen to a free address, or nats.url to use a running server)", o.Listen, err)
		}
		_ = l.Close()
	}
	if err := os.MkdirAll(o.StoreDir, 0o700); err != nil {
		return nil, fmt.Errorf("embedded NATS: %w", err)
	}
	name := o.ServerName
	if name == "" {
		name = "adsync-embedded"
	}
	sopts := &server.Options{
		ServerName:         name,
		Host:               host,
		Port:               port,
		JetStream:          true,
		StoreDir:           filepath.Clean(o.StoreDir),
		MaxPayload:         8 << 20,
		NoSigs:             true,
		Username:           o.User,
		Password:           o.Password,
		Authorization:      o.Token,
		SyncAlways:         o.SyncAlways,
		JetStreamMaxMemory: 256 << 20,
	}
	if o.CertFile != "" {
		tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: o.CertFile, KeyFile: o.KeyFile, CaFile: o.CAFile})
		if err != nil {
			return nil, fmt.Errorf("embedded NATS: tls: %w", err)
		}
		sopts.TLSConfig = tc
		sopts.TLS = true
		sopts.TLSVerify = false
	}
	ns, err := server.NewServer(sopts)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(15 * time.Second) {
		ns.Shutdown()
		return nil, fmt.Errorf("embedded NATS did not start listening on %s within 15s (is the port in use?)", o.Listen)
	}
	return &Server{ns: ns}, nil
}

// ClientURL is the URL clients connect to.
func (s *Server) ClientURL() string { return s.ns.ClientURL() }

// Shutdown stops the server and waits for it.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}

// Package bus connects adsync's services to NATS JetStream: the topology of
// streams, buckets and durable consumers, a watermill publisher and
// subscriber over JetStream, typed handlers, and the mapping of handler
// errors to ack, nak-with-delay and dead letters.
package bus

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/adsync/adsync/events"
)

// Options say how to reach NATS.
type Options struct {
	URL  string
	Name string // client name, shown by the server
	// Credentials, at most one kind.
	User, Password string
	Token          string
	CredsFile      string
	NKeyFile       string
	// TLS: CAFile verifies the server; CertFile/KeyFile for mutual TLS.
	CAFile, CertFile, KeyFile string
	// Timeout for requests to JetStream; default 10s.
	Timeout time.Duration
}

// Bus is a service's connection to NATS JetStream.
type Bus struct {
	NC        *nats.Conn
	JS        jetstream.JetStream
	Topology  TopologyOptions
	Log       *slog.Logger
	marshaler Marshaler
	publisher message.Publisher
}

// Connect dials NATS and returns a Bus. It does not provision.
func Connect(ctx context.Context, o Options, topo TopologyOptions, log *slog.Logger) (*Bus, error) {
	opts := []nats.Option{
		nats.Name(o.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.RetryOnFailedConnect(false),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("disconnected from NATS", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { log.Info("reconnected to NATS", "url", nc.ConnectedUrlRedacted()) }),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			log.Error("NATS error", "subject", subject, "err", err) // permission violations, slow consumers
		}),
	}
	switch {
	case o.CredsFile != "":
		opts = append(opts, nats.UserCredentials(o.CredsFile))
	case o.NKeyFile != "":
		opt, err := nats.NkeyOptionFromSeed(o.NKeyFile)
		if err != nil {
			return nil, fmt.Errorf("nats nkey %s: %w", o.NKeyFile, err)
		}
		opts = append(opts, opt)
	case o.Token != "":
		opts = append(opts, nats.Token(o.Token))
	case o.User != "":
		opts = append(opts, nats.UserInfo(o.User, o.Password))
	}
	if o.CAFile != "" || o.CertFile != "" {
		tc, err := tlsConfig(o)
		if err != nil {
			return nil, err
		}
		opts = append(opts, nats.Secure(tc))
	}
	nc, err := nats.Connect(o.URL, opts...)
	if err != nil {
		if refused(err) {
			return nil, fmt.Errorf("connect to NATS at %s: the server refused %s: %w", redact(o.URL), o.credentialKind(), err)
		}
		if tlsFailed(err) {
			return nil, fmt.Errorf("connect to NATS at %s: TLS failed (does nats.ca_file verify the server? does the server require a client certificate: nats.cert_file and key_file, signed by a CA it trusts?): %w", redact(o.URL), err)
		}
		return nil, fmt.Errorf("connect to NATS at %s: %w", redact(o.URL), err)
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	// An asynchronous publication that is never acknowledged (a stream
	// leader lost with it) fails after a while instead of waiting forever.
	js, err := jetstream.New(nc, jetstream.WithDefaultTimeout(timeout), jetstream.WithPublishAsyncTimeout(3*timeout))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	b := &Bus{NC: nc, JS: js, Topology: topo.withDefaults(), Log: log}
	b.publisher = &Publisher{JS: js}
	return b, nil
}

// refused reports an error of the server refusing the client's credentials.
func refused(err error) bool {
	for _, e := range []error{nats.ErrAuthorization, nats.ErrAuthExpired, nats.ErrAuthRevoked, nats.ErrAccountAuthExpired} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// tlsFailed reports a failed TLS handshake: a server certificate the
// client does not trust, or a client certificate the server refused (or
// missed: it then only closes the connection).
func tlsFailed(err error) bool {
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var hostname x509.HostnameError
	if errors.As(err, &unknown) || errors.As(err, &invalid) || errors.As(err, &hostname) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "tls: ") || strings.Contains(msg, "tls error")
}

// credentialKind names the credentials a connection presents, for errors.
func (o Options) credentialKind() string {
	switch {
	case o.CredsFile != "":
		return "the credentials of nats.creds_file " + o.CredsFile
	case o.NKeyFile != "":
		return "the NKey of nats.nkey_file " + o.NKeyFile
	case o.Token != "":
		return "the token of nats.token_file/token_env"
	case o.User != "":
		return fmt.Sprintf("user %q with its password (nats.password_file/password_env)", o.User)
	}
	return "a connection without credentials (set nats.user and a password, a token, nkey_file or creds_file)"
}

func tlsConfig(o Options) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("nats ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("nats ca_file %s: no PEM certificate in it", o.CAFile)
		}
		tc.RootCAs = pool
	}
	if o.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("nats client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// Provision creates the topology (idempotent).
func (b *Bus) Provision(ctx context.Context) error {
	return Provision(ctx, b.JS, b.Topology)
}

// CheckProvisioned reports ErrNotProvisioned when adsync's streams are absent.
func (b *Bus) CheckProvisioned(ctx context.Context) error {
	_, err := b.JS.Stream(ctx, StreamControl)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return ErrNotProvisioned
	}
	return err
}

// Publish publishes events, in order, and returns once JetStream stored
// every one (a repeat of an already stored message id is a no-op).
func (b *Bus) Publish(ctx context.Context, evs ...events.Event) error {
	i := 0
	for i < len(evs) {
		// One watermill call per run of events with the same subject.
		subject := events.Subject(evs[i])
		var msgs []*message.Message
		for i < len(evs) && events.Subject(evs[i]) == subject {
			m, err := b.marshaler.Marshal(evs[i])
			if err != nil {
				return err
			}
			m.SetContext(ctx)
			msgs = append(msgs, m)
			i++
		}
		if err := b.publisher.Publish(subject, msgs...); err != nil {
			return err
		}
	}
	return nil
}

// Close drains the connection.
func (b *Bus) Close() error {
	if b.NC == nil {
		return nil
	}
	if err := b.NC.Drain(); err != nil {
		b.NC.Close()
		return err
	}
	return nil
}

// KV opens one of adsync's buckets.
func (b *Bus) KV(ctx context.Context, bucket string) (jetstream.KeyValue, error) {
	kv, err := b.JS.KeyValue(ctx, bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, ErrNotProvisioned
	}
	if err != nil {
		return nil, fmt.Errorf("open bucket %s: %w", bucket, err)
	}
	return kv, nil
}

package ldapdir

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"

	"github.com/go-ldap/ldap/v3"
)

// Conn is a bound connection to one directory. Run one SearchUsers at a
// time on it; a SearchUsers whose ctx ends closes it.
type Conn struct {
	cfg Config
	l   *ldap.Conn
	// groupsRange, when set (tests only), asks for the groups attribute as
	// "<attr>;range=<groupsRange>" to exercise range retrieval.
	groupsRange string
	onSkipped   func(Skipped)
	changed     string // delta reads: an extra filter clause (see ChangedSince)
	// expiry (Active Directory delta reads): the users whose
	// accountExpires passed since the last read are read too (expiry.go).
	expiry expiryWatch
	// wire is the connection SearchUsers reads users over (wireconn.go),
	// opened at its first use, or in the background by PrepareUsers
	// (pending until taken).
	wire    *wireConn
	pending chan wireResult
}

type wireResult struct {
	w   *wireConn
	err error
}

// Dial validates cfg, connects (TLS from the start for ldaps://, StartTLS
// before anything else for ldap:// unless InsecurePlaintext) and binds. The
// server certificate is verified during the TLS handshake, before the bind
// request (and so the password) is sent.
func Dial(ctx context.Context, cfg Config) (*Conn, error) {
	cfg = cfg.WithDefaults()
	if errs := cfg.Validate(); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	l, err := dialBind(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &Conn{cfg: cfg, l: l}, nil
}

// dialBind connects and binds as cfg says; a refused bind is a bindError
// that wraps the server's *ldap.Error.
func dialBind(ctx context.Context, cfg Config) (*ldap.Conn, error) {
	nc, err := connect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	_, isTLS := nc.(*tls.Conn)
	l := ldap.NewConn(nc, isTLS)
	l.Start()
	l.SetTimeout(cfg.Timeout)
	err = withContext(ctx, l, func() error { return l.Bind(cfg.BindDN, cfg.BindPassword) })
	if err != nil {
		l.Close()
		return nil, &refusedBind{described: bindError(cfg, err), cause: err}
	}
	return l, nil
}

// refusedBind says what a refused bind means, and keeps the LDAP error.
type refusedBind struct {
	described, cause error
}

func (e *refusedBind) Error() string   { return e.described.Error() }
func (e *refusedBind) Unwrap() []error { return []error{e.described, e.cause} }

// Close closes the connection.
func (c *Conn) Close() error {
	c.dropWire()
	return c.l.Close()
}

// PrepareUsers starts opening the connection SearchUsers reads users over,
// so that its TLS handshake and bind overlap what comes before the users
// (the watermark, the groups): a delta read against Samba took about 10 ms
// less. A failure shows at SearchUsers, as if the connection were opened
// there.
func (c *Conn) PrepareUsers(ctx context.Context) {
	if c.wire != nil || c.pending != nil {
		return
	}
	ch := make(chan wireResult, 1)
	c.pending = ch
	go func() {
		w, err := dialWire(ctx, c.cfg)
		ch <- wireResult{w, err}
	}()
}

// wireConn returns the connection to read users over, opening it if needed.
func (c *Conn) wireConn(ctx context.Context) (*wireConn, error) {
	if ch := c.pending; ch != nil {
		c.pending = nil
		select {
		case r := <-ch:
			if r.err != nil {
				return nil, r.err
			}
			c.wire = r.w
		case <-ctx.Done():
			closeWhenDialed(ch)
			return nil, ctx.Err()
		}
	}
	if c.wire == nil {
		w, err := dialWire(ctx, c.cfg)
		if err != nil {
			return nil, err
		}
		c.wire = w
	}
	return c.wire, nil
}

// dropWire closes the users connection, which also ends a paged search in
// progress on the server; the next read opens a new one.
func (c *Conn) dropWire() {
	if c.pending != nil {
		closeWhenDialed(c.pending)
		c.pending = nil
	}
	if c.wire != nil {
		c.wire.Close()
		c.wire = nil
	}
}

// closeWhenDialed closes the connection PrepareUsers opens once it is
// open: nothing will read over it.
func closeWhenDialed(ch <-chan wireResult) {
	go func() {
		if r := <-ch; r.w != nil {
			r.w.Close()
		}
	}()
}

// dialTransport returns the connection to speak LDAP over: TLS for ldaps://
// and for ldap:// after StartTLS, plain TCP only with insecurePlaintext.
func dialTransport(ctx context.Context, u *url.URL, tc *tls.Config, insecurePlaintext bool) (net.Conn, error) {
	host, port := u.Hostname(), u.Port()
	if u.Scheme == "ldaps" {
		if port == "" {
			port = ldap.DefaultLdapsPort
		}
		d := &tls.Dialer{Config: tc}
		return d.DialContext(ctx, "tcp", net.JoinHostPort(host, port))
	}
	if port == "" {
		port = ldap.DefaultLdapPort
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, err
	}
	if insecurePlaintext {
		return nc, nil
	}
	tlsConn, err := startTLS(ctx, nc, tc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return tlsConn, nil
}

// withContext runs the blocking go-ldap call fn and closes the connection
// if ctx ends first, so that fn returns promptly; it then reports ctx's error.
func withContext(ctx context.Context, l *ldap.Conn, fn func() error) error {
	stop := context.AfterFunc(ctx, func() { l.Close() })
	err := fn()
	if !stop() {
		if err == nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}

package ldapdir

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/adsync/adsync/internal/ldapwire"
)

// wireConn is the connection that SearchUsers reads users over: a second
// connection to the same server, set up by the same connect (one
// tls.Config, certificate verified before the bind), bound with the same
// credentials, whose responses are read with internal/ldapwire's decoder. It
// does one request at a time.
type wireConn struct {
	nc      net.Conn
	r       *bufio.Reader
	lastID  int64
	timeout time.Duration
}

// connect opens the transport of a connection to cfg's server: TLS from
// the start for ldaps://, StartTLS first for ldap:// unless
// InsecurePlaintext. The server certificate is verified during the TLS
// handshake, before anything else is sent.
func connect(ctx context.Context, cfg Config) (net.Conn, error) {
	tc, err := tlsConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("domain %q: %w", cfg.Name, err)
	}
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("domain %q: url: %w", cfg.Name, err)
	}
	dialCtx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	nc, err := dialTransport(dialCtx, u, tc, cfg.InsecurePlaintext)
	if err != nil {
		return nil, connectError(cfg, err)
	}
	return nc, nil
}

// dialWire connects and binds a wireConn.
func dialWire(ctx context.Context, cfg Config) (*wireConn, error) {
	nc, err := connect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	w := &wireConn{nc: nc, r: bufio.NewReaderSize(nc, 64<<10), timeout: cfg.Timeout}
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	err = w.bind(cfg.BindDN, cfg.BindPassword)
	if !stop() && err == nil {
		err = ctx.Err()
	}
	if err != nil {
		nc.Close()
		return nil, bindError(cfg, ctxErr(ctx, err))
	}
	return w, nil
}

// Close closes the connection; a request in progress fails at once.
func (w *wireConn) Close() error { return w.nc.Close() }

// bind sends a simple bind request and checks its response.
func (w *wireConn) bind(dn, password string) error {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationBindRequest, nil, "Bind Request")
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 3, "Version"))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, dn, "User Name"))
	op.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, password, "Password"))
	id, err := w.send(op, nil)
	if err != nil {
		return err
	}
	m, err := w.receive(id)
	if err != nil {
		return err
	}
	if m.Op != ldapwire.OpBindResponse {
		return ldapwire.Malformed("answer 0x%02x to a bind request", m.Op)
	}
	r, err := ldapwire.ParseResult(m.Body)
	if err != nil {
		return err
	}
	return r.Err()
}

// searchPage sends req (with its controls, the paging control among them)
// and calls fn with each entry of the page, in order. It returns the
// paging cookie of the next page, empty after the last one; a request
// without a paging control is answered whole (no cookie). Continuation
// references are not followed (nor are they by go-ldap's Search). The
// page must arrive within the connection's timeout.
func (w *wireConn) searchPage(req *ldap.SearchRequest, fn func(*ldap.Entry) error) ([]byte, error) {
	paged := false
	for _, c := range req.Controls {
		if _, ok := c.(*pagingControl); ok {
			paged = true
		}
	}
	op, err := encodeSearch(req)
	if err != nil {
		return nil, err
	}
	id, err := w.send(op, req.Controls)
	if err != nil {
		return nil, err
	}
	for {
		m, err := w.receive(id)
		if err != nil {
			return nil, err
		}
		switch m.Op {
		case ldapwire.OpSearchEntry:
			e, err := ldapwire.ParseEntry(m.Body)
			if err != nil {
				return nil, err
			}
			if err := fn(e); err != nil {
				return nil, err
			}
		case ldapwire.OpSearchReference:
		case ldapwire.OpSearchDone:
			r, err := ldapwire.ParseResult(m.Body)
			if err != nil {
				return nil, err
			}
			if err := r.Err(); err != nil {
				return nil, err
			}
			if !paged {
				return nil, nil
			}
			cookie, found, err := ldapwire.PagingCookie(m.Controls)
			if err != nil {
				return nil, err
			}
			if !found {
				return nil, fmt.Errorf("the server's response has no paging control: %w", ErrIncompleteRead)
			}
			return cookie, nil
		default:
			return nil, ldapwire.Malformed("answer 0x%02x to a search request", m.Op)
		}
	}
}

// encodeSearch encodes req's SearchRequest protocolOp (RFC 4511 4.5.1).
func encodeSearch(req *ldap.SearchRequest) (*ber.Packet, error) {
	filter, err := ldap.CompileFilter(req.Filter)
	if err != nil {
		return nil, err
	}
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationSearchRequest, nil, "Search Request")
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, req.BaseDN, "Base DN"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, uint64(req.Scope), "Scope"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, uint64(req.DerefAliases), "Deref Aliases"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, uint64(req.SizeLimit), "Size Limit"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, uint64(req.TimeLimit), "Time Limit"))
	op.AppendChild(ber.NewBoolean(ber.ClassUniversal, ber.TypePrimitive, ber.TagBoolean, req.TypesOnly, "Types Only"))
	op.AppendChild(filter)
	attrs := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "Attributes")
	for _, a := range req.Attributes {
		attrs.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, a, "Attribute"))
	}
	op.AppendChild(attrs)
	return op, nil
}

// send writes op as the next message, with controls, and returns its id.
func (w *wireConn) send(op *ber.Packet, controls []ldap.Control) (int64, error) {
	w.lastID++
	p := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAP Request")
	p.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, w.lastID, "MessageID"))
	p.AppendChild(op)
	if len(controls) > 0 {
		cs := ber.Encode(ber.ClassContext, ber.TypeConstructed, 0, nil, "Controls")
		for _, c := range controls {
			cs.AppendChild(c.Encode())
		}
		p.AppendChild(cs)
	}
	deadline := time.Now().Add(w.timeout)
	_ = w.nc.SetDeadline(deadline) // the write, then the whole answer
	if _, err := w.nc.Write(p.Bytes()); err != nil {
		return 0, fmt.Errorf("%w: send request: %w", ErrConnectionLost, err)
	}
	return w.lastID, nil
}

// receive reads the next message, which must answer message id. A notice
// of disconnection (RFC 4511 4.4.1) is an error.
func (w *wireConn) receive(id int64) (ldapwire.Message, error) {
	b, err := ldapwire.ReadMessage(w.r)
	if err != nil {
		if errors.Is(err, ldapwire.ErrMalformed) {
			return ldapwire.Message{}, err
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return ldapwire.Message{}, fmt.Errorf("%w: no complete answer within %s: %w", ErrConnectionLost, w.timeout, err)
		}
		return ldapwire.Message{}, fmt.Errorf("%w: %w", ErrConnectionLost, err)
	}
	m, err := ldapwire.ParseMessage(b)
	if err != nil {
		return m, err
	}
	if m.ID == 0 && m.Op == ldapwire.OpExtendedResponse {
		// Its result (e.g. unavailable, the server shutting down) is told,
		// not wrapped: the error is the lost connection.
		why := ""
		if r, err := ldapwire.ParseResult(m.Body); err == nil && r.Code != ldap.LDAPResultSuccess {
			why = fmt.Sprintf(" (%s, LDAP %d) %s", ldap.LDAPResultCodeMap[r.Code], r.Code, r.Diagnostic)
		}
		return m, fmt.Errorf("%w: the server ended the connection%s", ErrConnectionLost, strings.TrimRight(why, " "))
	}
	if m.ID != id {
		return m, ldapwire.Malformed("answer to message %d while waiting for %d", m.ID, id)
	}
	return m, nil
}

package ldapdir

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

const oidStartTLS = "1.3.6.1.4.1.1466.20037"

// startTLS performs the StartTLS extended operation (RFC 4511 4.14) on a
// fresh connection and the TLS handshake that follows, before go-ldap takes
// the connection over. Doing it here rather than with ldap.Conn.StartTLS
// keeps the handshake error typed (x509.UnknownAuthorityError etc.; go-ldap
// flattens it to a string) and honours ctx.
func startTLS(ctx context.Context, nc net.Conn, tc *tls.Config) (*tls.Conn, error) {
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	req := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAP Request")
	req.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, int64(1), "MessageID"))
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationExtendedRequest, nil, "Start TLS")
	op.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, oidStartTLS, "TLS Extended Command"))
	req.AppendChild(op)
	if _, err := nc.Write(req.Bytes()); err != nil {
		return nil, fmt.Errorf("send StartTLS: %w", ctxErr(ctx, err))
	}
	resp, err := ber.ReadPacket(nc)
	if err != nil {
		return nil, fmt.Errorf("read StartTLS response: %w", ctxErr(ctx, err))
	}
	if len(resp.Children) < 2 || resp.Children[1].Tag != ldap.ApplicationExtendedResponse {
		return nil, errors.New("StartTLS: unexpected response from server")
	}
	if err := ldap.GetLDAPError(resp); err != nil {
		return nil, fmt.Errorf("the server refused StartTLS: %w", describeLDAP(Config{}, err, "starttls"))
	}
	tlsConn := tls.Client(nc, tc)
	if err := tlsConn.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	_ = nc.SetDeadline(time.Time{})
	return tlsConn, nil
}

// ctxErr prefers ctx's error when ctx has ended (the deadline we set on the
// socket then caused err).
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}

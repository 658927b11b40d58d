package ldapdir

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

func TestIsTransient(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: &net.AddrError{Err: "refused"}}
	unknownCA := &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"dial refused", fmt.Errorf("connect: %w", refused), true},
		{"ECONNREFUSED", fmt.Errorf("x: %w", syscall.ECONNREFUSED), true},
		{"ECONNRESET", fmt.Errorf("x: %w", syscall.ECONNRESET), true},
		{"EOF", fmt.Errorf("x: %w", io.EOF), true},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), true},
		{"canceled", fmt.Errorf("x: %w", context.Canceled), false},
		{"connection lost", fmt.Errorf("x: %w: boom", ErrConnectionLost), true},
		{"busy", ldap.NewError(ldap.LDAPResultBusy, errors.New("busy")), true},
		{"unavailable", ldap.NewError(ldap.LDAPResultUnavailable, errors.New("x")), true},
		{"server down", ldap.NewError(ldap.LDAPResultServerDown, errors.New("x")), true},
		{"time limit", ldap.NewError(ldap.LDAPResultTimeLimitExceeded, errors.New("x")), true},
		{"go-ldap network error", ldap.NewError(ldap.ErrorNetwork, errors.New("ldap: connection closed")), true},
		{"invalid credentials", fmt.Errorf("bind: %w", ldap.NewError(ldap.LDAPResultInvalidCredentials, errors.New("x"))), false},
		{"no such object", ldap.NewError(ldap.LDAPResultNoSuchObject, errors.New("x")), false},
		{"filter error", ldap.NewError(ldap.LDAPResultFilterError, errors.New("x")), false},
		{"size limit", ldap.NewError(ldap.LDAPResultSizeLimitExceeded, errors.New("x")), false},
		{"strong auth required", ldap.NewError(ldap.LDAPResultStrongAuthRequired, errors.New("x")), false},
		{"unknown CA", fmt.Errorf("connect: %w", unknownCA), false},
		{"unknown CA inside a network error", ldap.NewError(ldap.ErrorNetwork, unknownCA), false},
		{"hostname", x509.HostnameError{Host: "x"}, false},
		{"incomplete read", fmt.Errorf("x: %w", ErrIncompleteRead), false},
		{"plain error", errors.New("something"), false},
		{"no such host", &net.DNSError{Err: "no such host", Name: "dc1.corp.invalid", IsNotFound: true}, false},
		{"DNS server failure", &net.DNSError{Err: "server misbehaving", Name: "dc1", IsTemporary: true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsTransient(tt.err); got != tt.want {
				t.Fatalf("IsTransient(%v) = %t, want %t", tt.err, got, tt.want)
			}
		})
	}
}

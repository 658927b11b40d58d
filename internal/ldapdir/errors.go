package ldapdir

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"
	"syscall"

	"github.com/go-ldap/ldap/v3"
)

// ErrConnectionLost marks an operation that failed because the connection
// to the directory dropped (server stopped, network failure).
var ErrConnectionLost = errors.New("connection to the directory was lost")

// ErrIncompleteRead marks a search whose result could not be confirmed as
// complete (e.g. the paging control vanished from a response).
var ErrIncompleteRead = errors.New("incomplete read")

// describedError carries an administrator-readable message while keeping
// the original error for errors.Is/As (x509 errors, *ldap.Error...).
type describedError struct {
	msg string
	err error
}

func (e *describedError) Error() string { return e.msg }
func (e *describedError) Unwrap() error { return e.err }

// connectError explains a failure to reach the server or set up TLS.
func connectError(c Config, err error) error {
	return fmt.Errorf("domain %q: connect %s: %w", c.Name, c.URL, describeTransport(c, err))
}

// describeTransport turns TLS verification errors into plain words with a
// hint at the setting to check; other errors are kept as they are.
func describeTransport(c Config, err error) error {
	var (
		unknownCA x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		invalid   x509.CertificateInvalidError
		record    tls.RecordHeaderError
	)
	caHint := "the system roots do not trust it: set ca_file"
	if c.CAFile != "" {
		caHint = "check ca_file " + c.CAFile
	}
	switch {
	case errors.As(err, &unknownCA):
		return &describedError{fmt.Sprintf("tls: certificate signed by unknown authority (%s)", caHint), err}
	case errors.As(err, &hostErr):
		return &describedError{fmt.Sprintf("tls: %v (check tls_server_name, or use a host name that is in the certificate)",
			strings.TrimPrefix(hostErr.Error(), "x509: ")), err}
	case errors.As(err, &invalid):
		return &describedError{fmt.Sprintf("tls: %v", strings.TrimPrefix(invalid.Error(), "x509: ")), err}
	case errors.As(err, &record):
		return &describedError{"tls: the server did not answer with TLS (for StartTLS use ldap://, for TLS from the start ldaps://)", err}
	}
	return err
}

// bindError explains a failed bind. It never includes the password.
func bindError(c Config, err error) error {
	return fmt.Errorf("domain %q: bind as %s: %w", c.Name, c.BindDN, describeLDAP(c, err, "bind"))
}

// adDataCodes explains the "data xxx" part of AD's bind diagnostics.
var adDataCodes = map[string]string{
	"525": "user not found",
	"52e": "wrong password or user name",
	"530": "logon not permitted at this time",
	"531": "logon not permitted from this workstation",
	"532": "password expired",
	"533": "account disabled",
	"701": "account expired",
	"773": "password must be reset",
	"775": "account locked out",
}

var adDataRE = regexp.MustCompile(`data ([0-9a-f]{3}),`)

// describeLDAP formats an LDAP result error as "invalid credentials (LDAP
// 49): <server diagnostic> (<hint>)". op is "bind" or "search".
func describeLDAP(c Config, err error, op string) error {
	var le *ldap.Error
	if !errors.As(err, &le) || le.ResultCode >= ldap.ErrorNetwork {
		return err
	}
	name := strings.ToLower(ldap.LDAPResultCodeMap[le.ResultCode])
	if name == "" {
		name = "result"
	}
	msg := fmt.Sprintf("%s (LDAP %d)", name, le.ResultCode)
	diag := ""
	if le.Err != nil {
		diag = strings.TrimSpace(le.Err.Error())
	}
	if diag != "" {
		msg += ": " + diag
	}
	var hint string
	switch le.ResultCode {
	case ldap.LDAPResultInvalidCredentials:
		if m := adDataRE.FindStringSubmatch(diag); m != nil && adDataCodes[m[1]] != "" {
			hint = adDataCodes[m[1]]
		}
	case ldap.LDAPResultStrongAuthRequired, ldap.LDAPResultConfidentialityRequired:
		hint = "the server refuses a simple bind without encryption: use ldaps://, or ldap:// with StartTLS and insecure_plaintext: false"
	case ldap.LDAPResultNoSuchObject:
		if op == "search" {
			hint = fmt.Sprintf("check base_dn %q", c.BaseDN)
		}
	case ldap.LDAPResultInsufficientAccessRights:
		hint = "the bind account lacks read access"
	case ldap.LDAPResultFilterError:
		hint = "check user_filter and disabled_filter"
	}
	if hint != "" {
		msg += " (" + hint + ")"
	}
	return &describedError{msg, err}
}

// IsTransient reports whether err may go away by itself, so that retrying
// later makes sense: the server is unreachable, refused the connection,
// timed out, is busy or unavailable, or dropped the connection. Bad
// credentials, certificate problems, a wrong base DN, a bad filter and
// other configuration mistakes are not transient.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if isTLSVerification(err) {
		return false
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return false // no such host: a wrong url, not an outage
	}
	if errors.Is(err, ErrConnectionLost) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var le *ldap.Error
	if errors.As(err, &le) {
		switch le.ResultCode {
		case ldap.LDAPResultBusy, ldap.LDAPResultUnavailable, ldap.LDAPResultServerDown,
			ldap.LDAPResultTimeout, ldap.LDAPResultTimeLimitExceeded, ldap.LDAPResultConnectError,
			ldap.ErrorNetwork:
			return true
		}
		if le.ResultCode < ldap.ErrorNetwork {
			return false // the server answered: a definite result
		}
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true // includes timeouts and *net.OpError (refused, unreachable)
	}
	for _, target := range []error{io.EOF, io.ErrUnexpectedEOF, net.ErrClosed,
		syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE,
		syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.ETIMEDOUT} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// isTLSVerification reports certificate verification failures.
func isTLSVerification(err error) bool {
	var (
		verify    *tls.CertificateVerificationError
		unknownCA x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		invalid   x509.CertificateInvalidError
		record    tls.RecordHeaderError
	)
	return errors.As(err, &verify) || errors.As(err, &unknownCA) || errors.As(err, &hostErr) ||
		errors.As(err, &invalid) || errors.As(err, &record)
}

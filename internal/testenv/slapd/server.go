package slapd

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/adsync/adsync/internal/testenv"
)

// Server is a private OpenLDAP server with suffix dc=example,dc=org.
type Server struct {
	testenv.Admin        // Modify, Move, Search, Attr, AddMember, RemoveMember
	LDAPURL       string // ldap://127.0.0.1:PORT (StartTLS available)
	LDAPSURL      string // ldaps://127.0.0.1:PORT
	CAFile        string // PEM of the CA that signed the server certificate
	ServerName    string // a DNS name in the server certificate
	BindDN        string // rootdn "cn=admin,dc=example,dc=org"
	Password      string
	PasswordFile  string // holds Password, mode 0600
	BaseDN        string // "dc=example,dc=org"
	UsersDN       string // "ou=people,dc=example,dc=org"
	GroupsDN      string // "ou=groups,dc=example,dc=org"
	Dir           string // config, data, TLS files and log
	ConfFile      string
	// ReaderDN, ReaderPassword and ReaderPasswordFile: with WithReader, a
	// non-root account ("cn=reader,dc=example,dc=org") that can read
	// everything and is subject to the server-side limits given there (the
	// rootdn has no limits); empty otherwise.
	ReaderDN           string
	ReaderPassword     string
	ReaderPasswordFile string

	ldapPort, ldapsPort int
	autoPorts           bool
	daemon              bool
	readerLimits        string
	readerHash          string

	mu   sync.Mutex
	proc *slapdProcess // nil when stopped
	conn *ldap.Conn    // admin connection of the online helpers
}

// Option configures Slapd and New.
type Option func(*slapdOptions)

type slapdOptions struct {
	users     int
	randomIDs bool
	shuffled  bool // names in no order (see WriteUsersLDIF)
	groups    int  // groups a preloaded user is in
	dnsNames  []string
	ips       []net.IP
	ldapPort  int
	ldapsPort int
	daemon    bool
	reader    string // limits of the reader account; "" = no reader
}

// WithUsers preloads n users (see WriteUsersLDIF) with slapadd before slapd
// starts; loading is streamed, 1,000,000 users are fine.
func WithUsers(n int) Option { return func(o *slapdOptions) { o.users = n } }

// WithRandomIDs gives the preloaded users entryUUIDs in no order, as Active
// Directory's objectGUIDs are (see WriteUsersLDIF).
func WithRandomIDs() Option { return func(o *slapdOptions) { o.randomIDs = true } }

// WithShuffledNames writes the preloaded users in an order unrelated to
// their names, as Active Directory hands them out (see WriteUsersLDIF).
func WithShuffledNames() Option { return func(o *slapdOptions) { o.shuffled = true } }

// WithGroups puts each preloaded user in k groups (see WriteUsersLDIF).
func WithGroups(k int) Option { return func(o *slapdOptions) { o.groups = k } }

// WithCertNames makes the server certificate valid for exactly these DNS
// names and IP addresses (default: ldap.example.org, localhost, 127.0.0.1).
// ServerName becomes the first DNS name.
func WithCertNames(dnsNames []string, ips []net.IP) Option {
	return func(o *slapdOptions) { o.dnsNames, o.ips = dnsNames, ips }
}

// WithPorts fixes the ldap:// and ldaps:// ports (0 = pick a free one).
func WithPorts(ldapPort, ldapsPort int) Option {
	return func(o *slapdOptions) { o.ldapPort, o.ldapsPort = ldapPort, ldapsPort }
}

// WithReader adds a non-root account that reads with server-side limits
// (ReaderDN, ReaderPasswordFile): limits is the rest of a slapd.conf
// `limits` line, e.g. "size.prtotal=250" (a paged search stops with
// sizeLimitExceeded after 250 entries) or "time.soft=1 time.hard=1".
func WithReader(limits string) Option { return func(o *slapdOptions) { o.reader = limits } }

// WithDaemon lets slapd detach (it then outlives this process and is stopped
// through its pid file by StopDaemon). For command-line use.
func WithDaemon() Option { return func(o *slapdOptions) { o.daemon = true } }

// Slapd starts a private slapd in a temporary directory on free ports of
// 127.0.0.1 and stops it when the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	if _, err := exec.LookPath("slapd"); err != nil {
		if _, err2 := os.Stat("/usr/sbin/slapd"); err2 != nil {
			t.Fatalf("testenv: slapd not found: install the Debian packages slapd ldap-utils: %v", err)
		}
	}
	start := time.Now()
	s, err := New(t.TempDir(), opts...)
	if err != nil {
		t.Fatalf("testenv: slapd: %v", err)
	}
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("testenv: stop slapd: %v", err)
		}
	})
	if err := s.start(); err != nil {
		t.Fatalf("testenv: slapd: %v", err)
	}
	t.Logf("testenv: slapd ready at %s and %s (%v)", s.LDAPURL, s.LDAPSURL, time.Since(start).Round(time.Millisecond))
	return s
}

// New writes configuration, TLS files and initial data for a slapd
// into dir, without starting it (call Start or StartE).
func New(dir string, opts ...Option) (*Server, error) {
	o := slapdOptions{
		dnsNames: []string{"ldap.example.org", "localhost"},
		ips:      []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	for _, opt := range opts {
		opt(&o)
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("slapd dir: %w", err)
	}
	s := &Server{
		BindDN:    "cn=admin,dc=example,dc=org",
		BaseDN:    "dc=example,dc=org",
		UsersDN:   "ou=people,dc=example,dc=org",
		GroupsDN:  "ou=groups,dc=example,dc=org",
		Dir:       dir,
		ConfFile:  filepath.Join(dir, "slapd.conf"),
		ldapPort:  o.ldapPort,
		ldapsPort: o.ldapsPort,
		autoPorts: o.ldapPort == 0 || o.ldapsPort == 0,
		daemon:    o.daemon,
	}
	s.Admin = testenv.Admin{Do: s.do}
	if len(o.dnsNames) > 0 {
		s.ServerName = o.dnsNames[0]
	}
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		return nil, fmt.Errorf("slapd data dir: %w", err)
	}
	tls, err := testenv.WriteTLS(filepath.Join(dir, "tls"), o.dnsNames, o.ips)
	if err != nil {
		return nil, fmt.Errorf("slapd tls: %w", err)
	}
	s.CAFile = tls.CAFile
	if s.Password, err = testenv.NewAdminPassword(); err != nil {
		return nil, err
	}
	s.PasswordFile = filepath.Join(dir, "admin.password")
	if err := testenv.WriteSecret(s.PasswordFile, s.Password); err != nil {
		return nil, err
	}
	hash, err := sshaHash(s.Password)
	if err != nil {
		return nil, err
	}
	if o.reader != "" {
		s.ReaderDN, s.readerLimits = "cn=reader,"+s.BaseDN, o.reader
		if s.ReaderPassword, err = testenv.NewAdminPassword(); err != nil {
			return nil, err
		}
		s.ReaderPasswordFile = filepath.Join(dir, "reader.password")
		if err := testenv.WriteSecret(s.ReaderPasswordFile, s.ReaderPassword); err != nil {
			return nil, err
		}
		if s.readerHash, err = sshaHash(s.ReaderPassword); err != nil {
			return nil, err
		}
	}
	if err := testenv.WriteFile(s.ConfFile, slapdConf(s, tls, hash), 0o600); err != nil {
		return nil, err
	}
	if err := slapadd(context.Background(), s, o); err != nil {
		return nil, err
	}
	return s, nil
}

// slapadd loads the skeleton and the generated users (and groups) offline, streaming the
// LDIF into slapadd's stdin.
func slapadd(ctx context.Context, s *Server, o slapdOptions) error {
	cmd := exec.CommandContext(ctx, "slapadd", "-q", "-f", s.ConfFile)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("slapadd: %w", err)
	}
	out := &limitedBuffer{max: 64 << 10}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start slapadd: %w", err)
	}
	writeErr := WriteBaseLDIF(stdin, s.BaseDN)
	if writeErr == nil && s.ReaderDN != "" {
		_, writeErr = fmt.Fprintf(stdin, "dn: %s\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: reader\nuserPassword: %s\n\n",
			s.ReaderDN, s.readerHash)
	}
	if writeErr == nil {
		writeErr = WriteUsersLDIF(stdin, s.BaseDN, o.users, o.randomIDs, o.shuffled, o.groups)
	}
	closeErr := stdin.Close()
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("slapadd: %w\n%s", err, testenv.Tail(out.String(), 20))
	}
	if writeErr != nil {
		return fmt.Errorf("slapadd input: %w", writeErr)
	}
	if closeErr != nil {
		return fmt.Errorf("slapadd input: %w", closeErr)
	}
	return nil
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	max int
	buf []byte
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - len(b.buf); room > 0 {
		b.buf = append(b.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string { return string(b.buf) }

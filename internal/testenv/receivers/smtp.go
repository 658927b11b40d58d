package receivers

import (
	"crypto/tls"
	"errors"
	"io"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/adsync/adsync/internal/testenv"
)

// SMTPServer is a real SMTP submission server on loopback (emersion's
// go-smtp): STARTTLS with a certificate of a CA of its own, AUTH PLAIN for
// one user, and every message it accepted kept in order.
type SMTPServer struct {
	Addr     string // 127.0.0.1:port
	CAFile   string
	Username string
	Password string

	mu   sync.Mutex
	mail []Mail
}

// Mail is a message the server accepted.
type Mail struct {
	From string
	To   []string
	Data string
}

// SMTP starts a server until the test ends.
func SMTP(t testing.TB) *SMTPServer {
	t.Helper()
	files, err := testenv.WriteTLS(t.TempDir(), []string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(files.CertFile, files.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	s := &SMTPServer{CAFile: files.CAFile, Username: "adsync", Password: "smtp-password-1"}
	srv := smtp.NewServer(&smtpBackend{s: s})
	srv.Domain = "localhost"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	srv.ReadTimeout, srv.WriteTimeout = 30*time.Second, 30*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// Mails returns the messages accepted so far.
func (s *SMTPServer) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mail...)
}

type smtpBackend struct{ s *SMTPServer }

func (b *smtpBackend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &smtpSession{s: b.s, conn: c}, nil
}

type smtpSession struct {
	s      *SMTPServer
	conn   *smtp.Conn
	authed bool
	m      Mail
}

func (x *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (x *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if _, isTLS := x.conn.TLSConnectionState(); !isTLS {
			return errors.New("authentication needs TLS")
		}
		if user != x.s.Username || pass != x.s.Password {
			return errors.New("invalid credentials")
		}
		x.authed = true
		return nil
	}), nil
}

func (x *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if !x.authed {
		return smtp.ErrAuthRequired
	}
	x.m = Mail{From: from}
	return nil
}

func (x *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.m.To = append(x.m.To, to)
	return nil
}

func (x *smtpSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.m.Data = strings.ReplaceAll(string(raw), "\r\n", "\n")
	x.s.mu.Lock()
	x.s.mail = append(x.s.mail, x.m)
	x.s.mu.Unlock()
	return nil
}

func (x *smtpSession) Reset()        { x.m = Mail{} }
func (x *smtpSession) Logout() error { return nil }

// Message reads the mail's subject and its text body (quoted-printable
// decoded), as a mail reader shows them.
func (m Mail) Message() (subject, body string, err error) {
	msg, err := mail.ReadMessage(strings.NewReader(m.Data))
	if err != nil {
		return "", "", err
	}
	var r io.Reader = msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	raw, err := io.ReadAll(r)
	return msg.Header.Get("Subject"), string(raw), err
}

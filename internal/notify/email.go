package notify

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/adsync/adsync/events"
)

// Email sends each notification as a plain-text mail through an SMTP
// submission server (wneessen/go-mail): STARTTLS is required, except on
// port 465 (implicit TLS); with a user name, it authenticates.
type Email struct {
	ChannelName string
	Addr        string // host:port
	Username    string
	Password    string // never logged
	From        string
	To          []string
	// TLS verifies the server (RootCAs from ca_file; ServerName the host).
	TLS *tls.Config
}

// Name is the channel's name.
func (e *Email) Name() string { return e.ChannelName }

// Send mails the notification. The Message-ID is derived from its
// idempotency key, so a receiver (or a person) can tell a repeat.
func (e *Email) Send(ctx context.Context, n *events.NotificationRequested) error {
	host, portText, err := net.SplitHostPort(e.Addr)
	if err != nil {
		return refused("email %s: smtp %q is not host:port", e.ChannelName, e.Addr)
	}
	port, _ := strconv.Atoi(portText)
	tc := e.TLS
	if tc == nil {
		tc = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	tc = tc.Clone()
	if tc.ServerName == "" {
		tc.ServerName = host
	}
	opts := []mail.Option{mail.WithPort(port), mail.WithTLSConfig(tc), mail.WithTimeout(30 * time.Second)}
	if port == 465 {
		opts = append(opts, mail.WithSSL())
	} else {
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if e.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthPlain), mail.WithUsername(e.Username), mail.WithPassword(e.Password))
	}
	client, err := mail.NewClient(host, opts...)
	if err != nil {
		return fmt.Errorf("email %s: %w", e.ChannelName, err)
	}
	m := mail.NewMsg()
	if err := m.From(e.From); err != nil {
		return refused("email %s: from %q: %v", e.ChannelName, e.From, err)
	}
	if err := m.To(e.To...); err != nil {
		return refused("email %s: to %v: %v", e.ChannelName, e.To, err)
	}
	prefix := "[adsync] "
	if n.State == events.AlertResolved {
		prefix = "[adsync resolved] "
	}
	m.Subject(prefix + n.Title)
	sum := sha256.Sum256([]byte(n.ID + ":" + n.State))
	m.SetMessageIDWithValue(hex.EncodeToString(sum[:12]) + "@adsync")
	m.SetGenHeader("X-Adsync-Idempotency-Key", n.ID+":"+n.State)
	body := n.Text
	if n.Link != "" {
		body += "\n\n" + n.Link
	}
	m.SetBodyString(mail.TypeTextPlain, body+"\n")
	// Every SMTP failure is retried: a server that is down, full or
	// greylisting takes the mail later.
	if err := client.DialAndSendWithContext(ctx, m); err != nil {
		return fmt.Errorf("email %s via %s: %w", e.ChannelName, e.Addr, err)
	}
	return nil
}

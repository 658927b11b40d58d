package config

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/notify"
)

// Notify settings: who is told when a sync is held, failing or stale.
type Notify struct {
	// ConsoleURL is where messages link to (default http://<http.listen>).
	ConsoleURL string          `yaml:"console_url"`
	Channels   []NotifyChannel `yaml:"channels"`
	Rules      []NotifyRule    `yaml:"rules"`
	// StaleAfter is how long a scheduled job may go without a good run
	// before job.stale fires; default twice its interval.
	StaleAfter Duration `yaml:"stale_after"`
	// CheckEvery is how often the notifier looks for stale jobs and new
	// dead letters (default 1m).
	CheckEvery Duration `yaml:"check_every"`
}

// NotifyChannel is a webhook or an e-mail channel.
type NotifyChannel struct {
	Name string `yaml:"name"`
	Type string `yaml:"type"` // webhook, email
	// webhook
	URL        string `yaml:"url"`
	SecretFile string `yaml:"secret_file"`
	SecretEnv  string `yaml:"secret_env"`
	// email
	SMTP         string   `yaml:"smtp"` // host:port; :465 implicit TLS, else STARTTLS
	Username     string   `yaml:"username"`
	PasswordFile string   `yaml:"password_file"`
	PasswordEnv  string   `yaml:"password_env"`
	From         string   `yaml:"from"`
	To           []string `yaml:"to"`
	CAFile       string   `yaml:"ca_file"` // verify the SMTP server with this PEM bundle
}

// NotifyRule sends the events it names, of the jobs it names, to its
// channels.
type NotifyRule struct {
	Events   []string `yaml:"events"`
	Jobs     []string `yaml:"jobs"` // job names; "*" every job
	Channels []string `yaml:"channels"`
}

func (n Notify) validate() []string {
	var p []string
	add := func(format string, a ...any) { p = append(p, fmt.Sprintf(format, a...)) }
	names := map[string]bool{}
	for i, c := range n.Channels {
		where := fmt.Sprintf("notify.channels[%d] (%s)", i, c.Name)
		if c.Name == "" {
			add("notify.channels[%d]: name is required", i)
		} else if names[c.Name] {
			add("notify.channels: %q is named twice", c.Name)
		}
		names[c.Name] = true
		switch c.Type {
		case "webhook":
			if err := notify.CheckWebhookURL(c.URL); err != nil {
				add("%s: %v", where, err)
			}
			if (c.SecretFile == "") == (c.SecretEnv == "") {
				add("%s: set secret_file or secret_env (one of them): receivers check the signature", where)
			}
		case "email":
			if _, _, err := net.SplitHostPort(c.SMTP); err != nil {
				add("%s: smtp %q is not host:port (587 for STARTTLS, 465 for implicit TLS)", where, c.SMTP)
			}
			if c.From == "" || len(c.To) == 0 {
				add("%s: from and to are required", where)
			}
			if c.Username != "" && (c.PasswordFile == "") == (c.PasswordEnv == "") {
				add("%s: with a username, set password_file or password_env (one of them)", where)
			}
		default:
			add("%s: type %q is not webhook or email", where, c.Type)
		}
	}
	for i, r := range n.Rules {
		if len(r.Events) == 0 || len(r.Channels) == 0 {
			add("notify.rules[%d]: events and channels are required", i)
		}
		for _, e := range r.Events {
			if !slices.Contains(events.AlertKinds, e) {
				add("notify.rules[%d]: event %q is not one of %s", i, e, strings.Join(events.AlertKinds, ", "))
			}
		}
		for _, c := range r.Channels {
			if !names[c] {
				add("notify.rules[%d]: channel %q is not in notify.channels", i, c)
			}
		}
	}
	if n.StaleAfter < 0 || n.CheckEvery < 0 {
		add("notify: stale_after and check_every cannot be negative")
	}
	return p
}

// NotifyChannels builds the channels, reading their secrets.
func (f *File) NotifyChannels(env Env) ([]notify.Channel, error) {
	var out []notify.Channel
	for _, c := range f.Notify.Channels {
		switch c.Type {
		case "webhook":
			secret, err := Secret(c.SecretFile, c.SecretEnv, env)
			if err != nil {
				return nil, fmt.Errorf("notify.channels %s: %w", c.Name, err)
			}
			out = append(out, &notify.Webhook{ChannelName: c.Name, URL: c.URL, Secret: []byte(secret)})
		case "email":
			e := &notify.Email{ChannelName: c.Name, Addr: c.SMTP, Username: c.Username, From: c.From, To: c.To,
				TLS: &tls.Config{MinVersion: tls.VersionTLS12}}
			if c.Username != "" {
				pw, err := Secret(c.PasswordFile, c.PasswordEnv, env)
				if err != nil {
					return nil, fmt.Errorf("notify.channels %s: %w", c.Name, err)
				}
				e.Password = pw
			}
			if c.CAFile != "" {
				pem, err := os.ReadFile(c.CAFile)
				if err != nil {
					return nil, fmt.Errorf("notify.channels %s: ca_file: %w", c.Name, err)
				}
				pool := x509.NewCertPool()
				if !pool.AppendCertsFromPEM(pem) {
					return nil, fmt.Errorf("notify.channels %s: ca_file %s has no PEM certificate", c.Name, c.CAFile)
				}
				e.TLS.RootCAs = pool
			}
			out = append(out, e)
		}
	}
	return out, nil
}

// ConsoleURL is where notifications link to.
func (f *File) ConsoleURL() string {
	if f.Notify.ConsoleURL != "" {
		return strings.TrimSuffix(f.Notify.ConsoleURL, "/")
	}
	scheme := "http"
	if f.HTTP.TLSCertFile != "" {
		scheme = "https"
	}
	if f.HTTP.Listen == "" {
		return ""
	}
	return scheme + "://" + f.HTTP.Listen
}

// NotifyCheckEvery is how often the notifier checks (default a minute).
func (f *File) NotifyCheckEvery() time.Duration {
	if f.Notify.CheckEvery > 0 {
		return f.Notify.CheckEvery.D()
	}
	return time.Minute
}

package config

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/adsync/adsync/internal/infra/cpusched"
	"github.com/adsync/adsync/services/account-writer/accounts"
)

func (f *File) validate() []string {
	var p []string
	add := func(format string, a ...any) { p = append(p, fmt.Sprintf(format, a...)) }

	if f.NATS.URL != "" {
		for _, u := range strings.Split(f.NATS.URL, ",") {
			pu, err := url.Parse(strings.TrimSpace(u))
			if err != nil || pu.Host == "" || !slices.Contains([]string{"nats", "tls", "ws", "wss"}, pu.Scheme) {
				add("nats.url: %q is not a NATS URL (nats://host:4222, tls://host:4222; several separated by commas)", u)
			}
		}
	}
	if _, _, err := net.SplitHostPort(f.NATS.Listen); err != nil {
		add("nats.listen: %q is not host:port", f.NATS.Listen)
	}
	if f.NATS.Replicas < 1 || f.NATS.Replicas > 5 {
		add("nats.replicas: %d is out of range (1 on one machine, 3 on a cluster; at most 5)", f.NATS.Replicas)
	}
	if f.NATS.PasswordFile != "" && f.NATS.PasswordEnv != "" {
		add("nats: set password_file or password_env, not both")
	}
	if (f.NATS.PasswordFile != "" || f.NATS.PasswordEnv != "") && f.NATS.User == "" {
		add("nats: a password needs nats.user")
	}
	if (f.NATS.ServerCertFile == "") != (f.NATS.ServerKeyFile == "") {
		add("nats: server_cert_file and server_key_file go together")
	}
	if f.NATS.ServerCertFile != "" && f.NATS.URL != "" {
		add("nats: server_cert_file is for the embedded server; with nats.url set, configure TLS on that server")
	}
	if (f.NATS.CertFile == "") != (f.NATS.KeyFile == "") {
		add("nats: cert_file and key_file go together")
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, f.Log.Level) {
		add("log.level: %q is not one of debug, info, warn, error", f.Log.Level)
	}
	if !slices.Contains([]string{"text", "json"}, f.Log.Format) {
		add("log.format: %q is not one of text, json", f.Log.Format)
	}
	if !slices.Contains(cpusched.Policies, cpusched.Policy(f.Process.CPUScheduling)) {
		add("process.cpu_scheduling: %q is not one of batch, normal", f.Process.CPUScheduling)
	}
	if err := accounts.LocalNamer(f.Accounts.LocalName).Validate(); err != nil {
		add("accounts.local_name: %v", err)
	}
	if f.Audit.MaxAge < 0 || f.Audit.MaxAge > 0 && f.Audit.MaxAge.D() < 24*time.Hour {
		add("audit.max_age: %s is too short for an audit log (at least 24h; default 8760h, a year)", f.Audit.MaxAge.D())
	}
	if f.Feed.MaxAge < 0 || f.Feed.MaxAge > 0 && f.Feed.MaxAge.D() < time.Hour {
		add("feed.max_age: %s is too short: a consumer away for longer must start again from a snapshot (at least 1h; default 720h)", f.Feed.MaxAge.D())
	}
	p = append(p, f.HTTP.validate()...)
	p = append(p, f.Notify.validate()...)
	for i, r := range f.Console.Roles {
		if _, ok := f.Domain(r.Domain); !ok {
			add("console.roles[%d]: domain %q is not configured (configured: %s)", i, r.Domain, strings.Join(f.DomainNames(), ", "))
		}
		if _, err := ldap.ParseDN(r.Group); err != nil || r.Group == "" {
			add("console.roles[%d]: group %q is not a DN (e.g. CN=adsync-admins,OU=Groups,DC=corp,DC=example,DC=com)", i, r.Group)
		}
		if !slices.Contains([]string{"viewer", "operator", "admin"}, r.Role) {
			add("console.roles[%d]: role %q is not one of viewer, operator, admin", i, r.Role)
		}
	}
	if f.Accounts.ReportMaxRows < 0 {
		add("accounts.report_max_rows: must be positive")
	}
	if n := f.Reader.EntriesPerEvent; n < 0 || n > 100_000 {
		add("directory_reader.entries_per_event: %d is out of range (1 to 100000; 0 or unset: 2500)", n)
	}
	if f.Guard.RunLease.D() < 0 {
		add("guard.run_lease: must be positive")
	}
	if len(f.Domains) == 0 {
		add("domains: at least one domain is required")
	}
	seen := map[string]bool{}
	for i, d := range f.Domains {
		name := d.Name
		if name == "" {
			name = fmt.Sprintf("#%d", i+1)
			add("domain %s: name is required", name)
		} else if !namePattern.MatchString(name) {
			add("domain %q: name may only contain letters, digits, '-' and '_'", name)
		}
		if d.Name != "" && seen[d.Name] {
			add("domain %q: defined twice", d.Name)
		}
		seen[d.Name] = true
		for _, e := range d.validate() {
			add("domain %q: %s", name, e)
		}
		// The password is read later (Directories); validate the rest.
		for _, e := range d.Directory("(not read yet)").Validate() {
			add("%s", e)
		}
	}
	return p
}

// validate checks what only the configuration file can get wrong; the
// directory settings themselves are checked by ldapdir (see validate's
// caller).
func (d Domain) validate() []string {
	var p []string
	add := func(format string, a ...any) { p = append(p, fmt.Sprintf(format, a...)) }
	if d.InsecurePlaintext && strings.HasPrefix(d.URL, "ldaps://") {
		add("insecure_plaintext applies only to ldap:// URLs")
	}
	if d.BindPassword != "" {
		add("bind_password must not be written in the configuration file: use bind_password_file or bind_password_env")
	}
	switch {
	case d.BindPasswordFile == "" && d.BindPasswordEnv == "":
		add("bind_password_file or bind_password_env is required")
	case d.BindPasswordFile != "" && d.BindPasswordEnv != "":
		add("set bind_password_file or bind_password_env, not both")
	}
	return p
}

func (h HTTP) validate() []string {
	var p []string
	add := func(format string, a ...any) { p = append(p, fmt.Sprintf(format, a...)) }
	if h.Listen == "" {
		if len(h.Tokens) > 0 || h.TLSCertFile != "" {
			add("http: tokens and TLS are set, but http.listen is empty (no HTTP service)")
		}
		return p
	}
	if _, _, err := net.SplitHostPort(h.Listen); err != nil {
		add("http.listen: %q is not host:port", h.Listen)
	}
	if (h.TLSCertFile == "") != (h.TLSKeyFile == "") {
		add("http: tls_cert_file and tls_key_file go together")
	}
	if len(h.Tokens) == 0 {
		add("http.tokens: at least one token is needed (name, token_file or token_env, role)")
	}
	seen := map[string]bool{}
	for i, t := range h.Tokens {
		switch {
		case t.Name == "":
			add("http.tokens[%d]: name is required", i)
		case seen[t.Name]:
			add("http.tokens: %q is named twice", t.Name)
		}
		seen[t.Name] = true
		if !slices.Contains([]string{"viewer", "operator", "admin"}, t.Role) {
			add("http.tokens[%d] (%s): role %q is not one of viewer, operator, admin", i, t.Name, t.Role)
		}
		if (t.TokenFile == "") == (t.TokenEnv == "") {
			add("http.tokens[%d] (%s): set token_file or token_env (one of them)", i, t.Name)
		}
	}
	return p
}

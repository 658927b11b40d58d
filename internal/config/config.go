// Package config loads and validates adsync's YAML configuration file.
// Everything is checked up front; each problem is reported on its own line,
// e.g. `domain "corp": base_dn is required`.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/adsync/adsync/internal/infra/cpusched"
	"github.com/adsync/adsync/services/account-writer/accounts"
)

// DefaultPath is the configuration file used when -c is not given.
const DefaultPath = "./adsync.yaml"

// File is the whole configuration file.
type File struct {
	DataDir   string   `yaml:"data_dir"`
	NATS      NATS     `yaml:"nats"`
	JobServer *bool    `yaml:"job_server"`
	Guard     Guard    `yaml:"guard"`
	Log       Log      `yaml:"log"`
	Accounts  Accounts `yaml:"accounts"`
	Feed      Feed     `yaml:"feed"`
	Audit     Audit    `yaml:"audit"`
	HTTP      HTTP     `yaml:"http"`
	Console   Console  `yaml:"console"`
	Notify    Notify   `yaml:"notify"`
	Reader    Reader   `yaml:"directory_reader"`
	Metrics   Metrics  `yaml:"metrics"`
	Process   Process  `yaml:"process"`
	Domains   []Domain `yaml:"domains"`

	// path is where the file was read from; relative paths in it are
	// relative to the file's directory.
	path string
}

// NATS says where the bus is.
type NATS struct {
	// URL of a NATS server or cluster; empty: `adsync run` embeds one.
	URL string `yaml:"url"`
	// Listen is the embedded server's client address.
	Listen string `yaml:"listen"`
	// Replicas of streams and consumers: 1 on one machine, 3 on a cluster.
	Replicas int `yaml:"replicas"`
	// AckWait of the consumers (Go duration); default 30s.
	AckWait Duration `yaml:"ack_wait"`
	// History is how long run events (job history) are kept; default 720h.
	History Duration `yaml:"history"`
	// Credentials and TLS (all optional).
	User         string `yaml:"user"`
	PasswordFile string `yaml:"password_file"`
	PasswordEnv  string `yaml:"password_env"`
	TokenFile    string `yaml:"token_file"`
	TokenEnv     string `yaml:"token_env"`
	CredsFile    string `yaml:"creds_file"`
	NKeyFile     string `yaml:"nkey_file"`
	CAFile       string `yaml:"ca_file"`
	CertFile     string `yaml:"cert_file"`
	KeyFile      string `yaml:"key_file"`
	// AllowAnonymous lets any local process use the embedded server
	// without credentials, as before adsync generated them (a lab). By
	// default the embedded server requires the token in data_dir/nats.token
	// unless credentials are configured above.
	AllowAnonymous bool `yaml:"allow_anonymous"`
	// Provision: every process creates or updates the streams, buckets
	// and consumers at start (default true). Set false where services run
	// with least-privilege NATS users, and provision once with
	// `adsync provision` as an administrator.
	Provision *bool `yaml:"provision"`
	// The embedded server's own TLS certificate: clients must then use TLS
	// (and verify it with ca_file). With user/password or a token set, the
	// embedded server requires them too.
	ServerCertFile string `yaml:"server_cert_file"`
	ServerKeyFile  string `yaml:"server_key_file"`
}

// Guard settings.
type Guard struct {
	// RunLease is how long a run that never finishes blocks its job.
	RunLease Duration `yaml:"run_lease"`
}

// Reader settings (directory-reader).
type Reader struct {
	// EntriesPerEvent is how many directory entries one directory.page
	// event carries at most (default directoryreader.DefaultEntriesPerEvent,
	// 2500). Events are also kept below three quarters of the NATS server's
	// max_payload.
	EntriesPerEvent int `yaml:"entries_per_event"`
}

// Metrics settings.
type Metrics struct {
	// Listen serves /metrics, /healthz and /readyz (e.g. 127.0.0.1:9464);
	// empty: off. `--metrics ADDR` overrides it per process.
	Listen string `yaml:"listen"`
}

// Accounts settings.
type Accounts struct {
	// LocalName is the local-name rule: "user@domain" (default) or
	// "DOMAIN\user".
	LocalName string `yaml:"local_name"`
	// ReportRetention keeps per-account run reports this long (default 2160h).
	ReportRetention Duration `yaml:"report_retention"`
	// ReportMaxRows bounds one run's per-account report (default 100000).
	ReportMaxRows int `yaml:"report_max_rows"`
	// StreamFirstSync: a domain's first sync creates the accounts of each
	// page as it is read, instead of all at the end (default true). Such
	// a plan has nothing the deletion guard could hold; what was created
	// stays if the read then fails. false: a first sync applies whole or
	// not at all, as every other run does.
	StreamFirstSync *bool `yaml:"stream_first_sync"`
}

// StreamsFirstSync says whether a domain's first sync applies as it reads
// (accounts.stream_first_sync, default true).
func (a Accounts) StreamsFirstSync() bool { return orTrue(a.StreamFirstSync) }

// Feed settings: the account change feed (stream ADSYNC_ACCOUNTS), whose
// replicas follow nats.replicas.
type Feed struct {
	// MaxAge is how long the feed keeps a change (default 720h, 30 days):
	// a consumer away for longer starts again from a snapshot.
	MaxAge Duration `yaml:"max_age"`
}

// Console settings: who may sign in with their directory credentials.
type Console struct {
	// Roles give the members of a directory group (nested groups
	// included) a role in the console; the highest of a user's wins. A
	// user in none of the groups may not sign in.
	Roles []ConsoleRole `yaml:"roles"`
}

// ConsoleRole maps a group of a domain to a role.
type ConsoleRole struct {
	Domain string `yaml:"domain"`
	Group  string `yaml:"group"` // the group's DN
	Role   string `yaml:"role"`  // viewer, operator or admin
}

// Audit settings: the audit log (stream ADSYNC_AUDIT) of every change made
// through the API, the console or the command line.
type Audit struct {
	// MaxAge is how long an entry is kept (default 8760h, a year).
	MaxAge Duration `yaml:"max_age"`
}

// HTTP settings: the api service (REST API).
type HTTP struct {
	// Listen is host:port; empty: no HTTP service. Keep it on loopback
	// unless a TLS certificate is set.
	Listen      string `yaml:"listen"`
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`
	// Tokens are the API clients: Authorization: Bearer <token>.
	Tokens []HTTPToken `yaml:"tokens"`
}

// HTTPToken is one API client; its token comes from a file or the
// environment, never from this file.
type HTTPToken struct {
	Name      string `yaml:"name"`
	TokenFile string `yaml:"token_file"`
	TokenEnv  string `yaml:"token_env"`
	Role      string `yaml:"role"` // viewer, operator or admin
}

// Process settings: how the operating system runs adsync.
type Process struct {
	// CPUScheduling: "batch" (default) runs every thread under Linux's
	// SCHED_BATCH, "normal" leaves them as started (internal/infra/cpusched).
	CPUScheduling string `yaml:"cpu_scheduling"`
}

// Log settings.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text, json
}

// Domain is one directory to sync.
type Domain struct {
	Name              string     `yaml:"name"`
	Type              string     `yaml:"type"`
	URL               string     `yaml:"url"`
	CAFile            string     `yaml:"ca_file"`
	TLSServerName     string     `yaml:"tls_server_name"`
	InsecurePlaintext bool       `yaml:"insecure_plaintext"`
	BindDN            string     `yaml:"bind_dn"`
	BindPasswordFile  string     `yaml:"bind_password_file"`
	BindPasswordEnv   string     `yaml:"bind_password_env"`
	BindPassword      string     `yaml:"bind_password"` // refused: secrets never live in the YAML
	BaseDN            string     `yaml:"base_dn"`
	GroupBaseDN       string     `yaml:"group_base_dn"`
	GroupFilter       string     `yaml:"group_filter"`
	LookupBaseDN      string     `yaml:"lookup_base_dn"`
	FullSyncEvery     Duration   `yaml:"full_sync_every"`
	FullSyncAfter     int        `yaml:"full_sync_after_deltas"`
	DeltaOverlap      Duration   `yaml:"delta_overlap"`
	UserFilter        string     `yaml:"user_filter"`
	DisabledFilter    string     `yaml:"disabled_filter"`
	PageSize          int        `yaml:"page_size"`
	Timeout           Duration   `yaml:"timeout"`
	Attributes        Attributes `yaml:"attributes"`
}

// Attributes override the directory attribute of each account field.
type Attributes struct {
	ID          string `yaml:"id"`
	Username    string `yaml:"username"`
	UPN         string `yaml:"upn"`
	Email       string `yaml:"email"`
	DisplayName string `yaml:"display_name"`
	GivenName   string `yaml:"given_name"`
	Surname     string `yaml:"surname"`
	Groups      string `yaml:"groups"`
}

// Duration is a time.Duration written in Go syntax ("12h", "30s").
type Duration time.Duration

// UnmarshalYAML parses a Go duration.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	if s == "" {
		*d = 0
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (use e.g. 30s, 5m, 12h)", n.Line, s)
	}
	*d = Duration(v)
	return nil
}

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

var namePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,100}$`)

// Load reads and validates the file at path. Secrets are not read here;
// see Secrets.
func Load(path string) (*File, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("config file %s not found (pass -c FILE; see README for an example)", path)
		}
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, raw)
}

// Parse parses and validates configuration text read from path.
func Parse(path string, raw []byte) (*File, error) {
	f := &File{path: path}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config %s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	f.applyDefaults()
	if errs := f.validate(); len(errs) > 0 {
		return nil, &Error{Path: path, Problems: errs}
	}
	return f, nil
}

func (f *File) applyDefaults() {
	if f.DataDir == "" {
		f.DataDir = "./data"
	}
	f.DataDir = f.resolve(f.DataDir)
	if f.NATS.Listen == "" {
		f.NATS.Listen = "127.0.0.1:4222"
	}
	if f.NATS.Replicas == 0 {
		f.NATS.Replicas = 1
	}
	if f.JobServer == nil {
		t := true
		f.JobServer = &t
	}
	if f.Guard.RunLease == 0 {
		f.Guard.RunLease = Duration(6 * time.Hour)
	}
	if f.Accounts.LocalName == "" {
		f.Accounts.LocalName = accounts.RuleUserAtDomain
	}
	if f.Log.Level == "" {
		f.Log.Level = "info"
	}
	if f.Log.Format == "" {
		f.Log.Format = "text"
	}
	if f.Process.CPUScheduling == "" {
		f.Process.CPUScheduling = string(cpusched.Batch)
	}
	for i := range f.Domains {
		d := &f.Domains[i]
		if d.Type == "" {
			d.Type = "active_directory"
		}
		d.CAFile = f.resolve(d.CAFile)
		d.BindPasswordFile = f.resolve(d.BindPasswordFile)
	}
	for _, p := range []*string{&f.NATS.PasswordFile, &f.NATS.TokenFile, &f.NATS.CredsFile, &f.NATS.NKeyFile, &f.NATS.CAFile, &f.NATS.CertFile, &f.NATS.KeyFile,
		&f.NATS.ServerCertFile, &f.NATS.ServerKeyFile} {
		*p = f.resolve(*p)
	}
}

// resolve makes a path in the file relative to the file's directory.
func (f *File) resolve(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(filepath.Dir(f.path), p)
}

// Path is the file the configuration was read from.
func (f *File) Path() string { return f.path }

// IsJobServer reports the job_server setting (default true).
func (f *File) IsJobServer() bool { return orTrue(f.JobServer) }

// DomainNames lists the configured domains in file order.
func (f *File) DomainNames() []string {
	names := make([]string, len(f.Domains))
	for i, d := range f.Domains {
		names[i] = d.Name
	}
	return names
}

// Domain returns the named domain.
func (f *File) Domain(name string) (Domain, bool) {
	for _, d := range f.Domains {
		if d.Name == name {
			return d, true
		}
	}
	return Domain{}, false
}

// Error lists every problem of a configuration file.
type Error struct {
	Path     string
	Problems []string
}

func (e *Error) Error() string {
	return fmt.Sprintf("config %s has %d problem(s):\n  %s", e.Path, len(e.Problems), strings.Join(e.Problems, "\n  "))
}

// AccountsOptions returns the account store's options.
func (f *File) AccountsOptions() accounts.Options {
	return accounts.Options{LocalName: accounts.LocalNamer(f.Accounts.LocalName), ReportRetention: f.Accounts.ReportRetention.D(), ReportMaxRows: f.Accounts.ReportMaxRows}
}

// ShouldProvision reports nats.provision (default true).
func (f *File) ShouldProvision() bool { return orTrue(f.NATS.Provision) }

// orTrue is a boolean setting that is true unless set to false.
func orTrue(p *bool) bool { return p == nil || *p }

package ldapdir

import (
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Type is the kind of directory.
type Type string

// Directory types.
const (
	ActiveDirectory Type = "active_directory" // the default
	GenericLDAP     Type = "ldap"
)

// Attributes overrides the attribute names read for each field of
// events.DirectoryEntry. An empty field means the default for the type.
type Attributes struct {
	ID, Username, UPN, Email, DisplayName, GivenName, Surname, Groups string
}

// Config says how to reach and read one directory (one "domain").
type Config struct {
	Name          string
	Type          Type
	URL           string // ldaps://host[:port] or ldap://host[:port] (StartTLS)
	CAFile        string // PEM bundle to verify the server; empty = system roots
	TLSServerName string // expected name in the server certificate; default the URL host
	// InsecurePlaintext allows a bind over ldap:// without StartTLS.
	InsecurePlaintext bool
	BindDN            string
	BindPassword      string // never logged, never in errors
	BaseDN            string
	UserFilter        string // default per type
	DisabledFilter    string // entries matching it are disabled ("directory-disabled")
	// GroupBaseDN is where groups are read for nested membership (default:
	// the domain root of BaseDN); GroupFilter selects them (default
	// (objectClass=group), or groupOfNames/groupOfUniqueNames for ldap).
	GroupBaseDN string
	GroupFilter string
	// LookupBaseDN is where an account found missing is looked up to tell
	// "removed" from "out of scope" (default: the domain root of BaseDN).
	LookupBaseDN string
	// Delta reads (see delta.go): a full read is done at least every
	// FullEvery (default 24h) and after FullAfterDeltas delta reads
	// (default 50); DeltaOverlap (default 5m) is re-read for clock skew
	// (generic LDAP).
	FullEvery       time.Duration
	FullAfterDeltas int
	DeltaOverlap    time.Duration
	PageSize        int // default 1000 (AD's MaxPageSize)
	Attributes      Attributes
	Timeout         time.Duration    // dial and per request; default 30s
	Now             func() time.Time // clock for accountExpires; default time.Now
}

// Defaults.
const (
	DefaultPageSize = 1000
	DefaultTimeout  = 30 * time.Second
	// MaxADPageSize is Active Directory's default MaxPageSize.
	MaxADPageSize = 1000

	defaultADFilter   = "(&(objectCategory=person)(objectClass=user))"
	defaultLDAPFilter = "(objectClass=inetOrgPerson)"
)

var (
	defaultADAttributes = Attributes{
		ID: "objectGUID", Username: "sAMAccountName", UPN: "userPrincipalName", Email: "mail",
		DisplayName: "displayName", GivenName: "givenName", Surname: "sn", Groups: "memberOf",
	}
	// Generic LDAP has no UPN; displayName falls back to cn (see mapping).
	defaultLDAPAttributes = Attributes{
		ID: "entryUUID", Username: "uid", Email: "mail",
		DisplayName: "displayName", GivenName: "givenName", Surname: "sn", Groups: "memberOf",
	}
)

// WithDefaults returns c with every unset field filled in for its type.
func (c Config) WithDefaults() Config {
	if c.Type == "" {
		c.Type = ActiveDirectory
	}
	if c.PageSize == 0 {
		c.PageSize = DefaultPageSize
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.FullEvery == 0 {
		c.FullEvery = 24 * time.Hour
	}
	if c.FullAfterDeltas == 0 {
		c.FullAfterDeltas = 50
	}
	if c.DeltaOverlap == 0 {
		c.DeltaOverlap = 5 * time.Minute
	}
	def, filter := defaultADAttributes, defaultADFilter
	if c.Type == GenericLDAP {
		def, filter = defaultLDAPAttributes, defaultLDAPFilter
	}
	if strings.TrimSpace(c.UserFilter) == "" {
		c.UserFilter = filter
	}
	a := &c.Attributes
	for _, f := range []struct {
		field *string
		def   string
	}{
		{&a.ID, def.ID}, {&a.Username, def.Username}, {&a.UPN, def.UPN}, {&a.Email, def.Email},
		{&a.DisplayName, def.DisplayName}, {&a.GivenName, def.GivenName}, {&a.Surname, def.Surname},
		{&a.Groups, def.Groups},
	} {
		if *f.field == "" {
			*f.field = f.def
		}
	}
	return c
}

// String describes c without its password, so that printing a Config with
// %v or %+v cannot leak it.
func (c Config) String() string {
	return fmt.Sprintf("ldapdir.Config{Name:%q Type:%q URL:%q CAFile:%q TLSServerName:%q InsecurePlaintext:%t BindDN:%q BindPassword:%s BaseDN:%q UserFilter:%q DisabledFilter:%q PageSize:%d Attributes:%+v Timeout:%v}",
		c.Name, c.Type, c.URL, c.CAFile, c.TLSServerName, c.InsecurePlaintext, c.BindDN, redacted(c.BindPassword),
		c.BaseDN, c.UserFilter, c.DisabledFilter, c.PageSize, c.Attributes, c.Timeout)
}

// GoString is String for %#v.
func (c Config) GoString() string { return c.String() }

// LogValue implements slog.LogValuer without the password.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("name", c.Name),
		slog.String("type", string(c.Type)),
		slog.String("url", c.URL),
		slog.String("ca_file", c.CAFile),
		slog.String("tls_server_name", c.TLSServerName),
		slog.Bool("insecure_plaintext", c.InsecurePlaintext),
		slog.String("bind_dn", c.BindDN),
		slog.String("bind_password", redacted(c.BindPassword)),
		slog.String("base_dn", c.BaseDN),
		slog.String("user_filter", c.UserFilter),
		slog.String("disabled_filter", c.DisabledFilter),
		slog.Int("page_size", c.PageSize),
		slog.Duration("timeout", c.Timeout),
	)
}

func redacted(secret string) string {
	if secret == "" {
		return "(empty)"
	}
	return "[redacted]"
}

package ldapdir

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWithDefaults(t *testing.T) {
	tests := []struct {
		name  string
		in    Config
		check func(t *testing.T, c Config)
	}{
		{"AD by default", Config{}, func(t *testing.T, c Config) {
			if c.Type != ActiveDirectory || c.PageSize != 1000 || c.Timeout != 30*time.Second || c.Now == nil {
				t.Fatalf("%v", c)
			}
			if c.UserFilter != "(&(objectCategory=person)(objectClass=user))" || c.Attributes != defaultADAttributes {
				t.Fatalf("%v", c)
			}
		}},
		{"generic LDAP", Config{Type: GenericLDAP}, func(t *testing.T, c Config) {
			if c.UserFilter != "(objectClass=inetOrgPerson)" || c.Attributes.ID != "entryUUID" || c.Attributes.Username != "uid" || c.Attributes.UPN != "" {
				t.Fatalf("%v", c)
			}
		}},
		{"overrides kept", Config{Type: GenericLDAP, PageSize: 10, UserFilter: "(uid=*)", Attributes: Attributes{ID: "uid", Email: "x"}}, func(t *testing.T, c Config) {
			if c.PageSize != 10 || c.UserFilter != "(uid=*)" || c.Attributes.ID != "uid" || c.Attributes.Email != "x" || c.Attributes.Username != "uid" {
				t.Fatalf("%v", c)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.check(t, tt.in.WithDefaults()) })
	}
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := Config{Name: "corp", URL: "ldaps://dc1.corp.example.com", BindDN: "svc@corp", BindPassword: "pw", BaseDN: "DC=corp,DC=example,DC=com"}
	tests := []struct {
		name   string
		mutate func(c *Config)
		want   []string // substrings, one per expected error, in order
	}{
		{"valid", func(c *Config) {}, nil},
		{"valid ldap:// and generic", func(c *Config) { c.URL = "ldap://127.0.0.1:389/"; c.Type = GenericLDAP; c.PageSize = 5000 }, nil},
		{"base dn missing", func(c *Config) { c.BaseDN = "" }, []string{`domain "corp": base_dn is required`}},
		{"empty password", func(c *Config) { c.BindPassword = "" }, []string{`domain "corp": bind password is empty`}},
		{"bad scheme", func(c *Config) { c.URL = "http://x" }, []string{`domain "corp": url "http://x": scheme must be`}},
		{"no host", func(c *Config) { c.URL = "ldaps://" }, []string{`has no host`}},
		{"path", func(c *Config) { c.URL = "ldaps://h/dc=x?cn" }, []string{`want only scheme://host[:port]`}},
		{"bad filters", func(c *Config) { c.UserFilter = "(uid=x"; c.DisabledFilter = "bad" }, []string{`user_filter "(uid=x" does not compile`, `disabled_filter "bad" does not compile`}},
		{"AD page size", func(c *Config) { c.PageSize = 1001 }, []string{`page_size 1001 is larger than Active Directory's MaxPageSize 1000`}},
		{"negative page size", func(c *Config) { c.PageSize = -1 }, []string{`page_size -1 must be at least 1`}},
		{"ca file missing", func(c *Config) { c.CAFile = filepath.Join(dir, "nope.pem") }, []string{`ca_file: read`}},
		{"ca file not PEM", func(c *Config) { c.CAFile = notPEM }, []string{`holds no PEM certificate`}},
		{"bad type", func(c *Config) { c.Type = "novell" }, []string{`type "novell" is not one of`}},
		{"bad attribute", func(c *Config) { c.Attributes.Email = "mail)(x" }, []string{`attributes.email "mail)(x" is not an attribute name`}},
		{"bad base DN", func(c *Config) { c.BaseDN = "not a dn" }, []string{`base_dn "not a dn" is not a valid DN`}},
		{"several at once", func(c *Config) { c.Name = ""; c.BindDN = ""; c.URL = "" }, []string{
			`domain "": name is required`, `domain "": url is required`, `domain "": bind_dn is required`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.mutate(&c)
			errs := c.Validate()
			if len(errs) != len(tt.want) {
				t.Fatalf("got %d errors %v, want %d %q", len(errs), errs, len(tt.want), tt.want)
			}
			for i, err := range errs {
				if !strings.Contains(err.Error(), tt.want[i]) {
					t.Errorf("error %d = %q, want it to contain %q", i, err, tt.want[i])
				}
			}
		})
	}
}

func TestConfigNeverShowsPassword(t *testing.T) {
	const secret = "S3cr3t-Pa55w0rd"
	c := Config{Name: "corp", URL: "ldaps://x", BindDN: "svc", BindPassword: secret, BaseDN: "dc=x"}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "domain", c)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "domain", c)
	outputs := map[string]string{
		"%v":   fmt.Sprintf("%v", c),
		"%+v":  fmt.Sprintf("%+v", c),
		"%#v":  fmt.Sprintf("%#v", c),
		"%s":   fmt.Sprintf("%s", c),
		"&%v":  fmt.Sprintf("%v", &c),
		"slog": logged.String(),
	}
	for verb, out := range outputs {
		t.Run(verb, func(t *testing.T) {
			if strings.Contains(out, secret) {
				t.Fatalf("password visible: %s", out)
			}
			if !strings.Contains(out, "redacted") || !strings.Contains(out, "svc") {
				t.Fatalf("unexpected output: %s", out)
			}
		})
	}
}

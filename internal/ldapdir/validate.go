package ldapdir

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// attrNameRE matches an attribute description: a name or an OID, with
// optional options (";binary", ";range=0-*" is not allowed here).
var attrNameRE = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9-]*|[0-9]+(\.[0-9]+)+)$`)

// Validate checks c (after WithDefaults) and returns one error per problem,
// each prefixed with the domain name, e.g. `domain "corp": base_dn is
// required`. It reads CAFile; it does not contact the directory.
func (c Config) Validate() []error {
	c = c.WithDefaults()
	var errs []error
	add := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("domain %q: %s", c.Name, fmt.Sprintf(format, args...)))
	}

	if strings.TrimSpace(c.Name) == "" {
		add("name is required")
	}
	if c.Type != ActiveDirectory && c.Type != GenericLDAP {
		add("type %q is not one of %q, %q", c.Type, ActiveDirectory, GenericLDAP)
	}
	if msg := checkURL(c.URL); msg != "" {
		add("%s", msg)
	}
	if strings.TrimSpace(c.BindDN) == "" {
		add("bind_dn is required")
	}
	if c.BindPassword == "" {
		add("bind password is empty")
	}
	if strings.TrimSpace(c.BaseDN) == "" {
		add("base_dn is required")
	} else if _, err := ldap.ParseDN(c.BaseDN); err != nil {
		add("base_dn %q is not a valid DN: %v", c.BaseDN, err)
	}
	if _, err := ldap.CompileFilter(c.UserFilter); err != nil {
		add("user_filter %q does not compile: %v", c.UserFilter, err)
	}
	for _, dn := range []struct{ key, v string }{{"group_base_dn", c.GroupBaseDN}, {"lookup_base_dn", c.LookupBaseDN}} {
		if dn.v == "" {
			continue
		}
		if _, err := ldap.ParseDN(dn.v); err != nil {
			add("%s %q is not a valid DN: %v", dn.key, dn.v, err)
		}
	}
	if c.GroupFilter != "" {
		if _, err := ldap.CompileFilter(c.GroupFilter); err != nil {
			add("group_filter %q does not compile: %v", c.GroupFilter, err)
		}
	}
	if c.DisabledFilter != "" {
		if _, err := ldap.CompileFilter(c.DisabledFilter); err != nil {
			add("disabled_filter %q does not compile: %v", c.DisabledFilter, err)
		}
	}
	switch {
	case c.PageSize < 1:
		add("page_size %d must be at least 1", c.PageSize)
	case c.Type == ActiveDirectory && c.PageSize > MaxADPageSize:
		add("page_size %d is larger than Active Directory's MaxPageSize %d", c.PageSize, MaxADPageSize)
	}
	if c.Timeout < 0 {
		add("timeout %v must be positive", c.Timeout)
	}
	if c.CAFile != "" {
		if _, err := loadCAFile(c.CAFile); err != nil {
			add("ca_file: %v", err)
		}
	}
	a := c.Attributes
	for _, f := range []struct{ key, value string }{
		{"id", a.ID}, {"username", a.Username}, {"upn", a.UPN}, {"email", a.Email},
		{"display_name", a.DisplayName}, {"given_name", a.GivenName}, {"surname", a.Surname}, {"groups", a.Groups},
	} {
		if f.value != "" && !attrNameRE.MatchString(f.value) {
			add("attributes.%s %q is not an attribute name", f.key, f.value)
		}
	}
	return errs
}

// checkURL returns a problem with u, or "".
func checkURL(raw string) string {
	if strings.TrimSpace(raw) == "" {
		return "url is required"
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Sprintf("url %q: %v", raw, err)
	}
	if u.Scheme != "ldap" && u.Scheme != "ldaps" {
		return fmt.Sprintf("url %q: scheme must be ldaps:// or ldap:// (StartTLS)", raw)
	}
	if u.Hostname() == "" {
		return fmt.Sprintf("url %q has no host", raw)
	}
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Sprintf("url %q: want only scheme://host[:port]", raw)
	}
	return ""
}

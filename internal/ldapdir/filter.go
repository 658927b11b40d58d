package ldapdir

import "github.com/go-ldap/ldap/v3"

// FilterEquals returns the equality filter (attr=value) with value escaped
// (RFC 4515), so that no value can change the filter's structure. attr must
// be a trusted attribute name.
func FilterEquals(attr, value string) string {
	return "(" + attr + "=" + ldap.EscapeFilter(value) + ")"
}

// andFilter combines filters into (&f1 f2 ...); each must be a complete,
// parenthesised filter.
func andFilter(filters ...string) string {
	s := "(&"
	for _, f := range filters {
		s += f
	}
	return s + ")"
}

// notFilter negates a complete filter.
func notFilter(f string) string { return "(!" + f + ")" }

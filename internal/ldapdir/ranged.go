package ldapdir

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// allValues returns every value of the multi-valued attr of e. Active
// Directory returns at most MaxValRange values (1500) of an attribute per
// request, named "attr;range=0-1499"; the rest is fetched here with base
// searches for "attr;range=<next>-*" until the server marks the last range
// with "*", so that a user's groups are never silently truncated.
func (c *Conn) allValues(e *ldap.Entry, attr string) ([]string, error) {
	vals, next, err := rangedValues(e, attr)
	if err != nil {
		return nil, err
	}
	for next >= 0 {
		ranged := fmt.Sprintf("%s;range=%d-*", attr, next)
		res, err := c.l.Search(ldap.NewSearchRequest(e.DN, ldap.ScopeBaseObject, ldap.NeverDerefAliases,
			0, 0, false, "(objectClass=*)", []string{ranged}, nil))
		if err != nil {
			return nil, fmt.Errorf("read %s of %q: %w", ranged, e.DN, err)
		}
		if len(res.Entries) != 1 {
			return nil, fmt.Errorf("read %s of %q: %d entries: %w", ranged, e.DN, len(res.Entries), ErrIncompleteRead)
		}
		more, n, err := rangedValues(res.Entries[0], attr)
		if err != nil {
			return nil, err
		}
		if n >= 0 && n <= next {
			return nil, fmt.Errorf("read %s of %q: range does not advance: %w", ranged, e.DN, ErrIncompleteRead)
		}
		vals, next = append(vals, more...), n
	}
	return vals, nil
}

// rangedValues collects the values of attr and attr;range=lo-hi in e. next
// is hi+1 when more values remain, -1 when the values are complete.
func rangedValues(e *ldap.Entry, attr string) (vals []string, next int, err error) {
	next = -1
	for _, a := range e.Attributes {
		name, opts, _ := strings.Cut(a.Name, ";")
		if !strings.EqualFold(name, attr) {
			continue
		}
		vals = append(vals, a.Values...)
		hi, ok := rangeHigh(opts)
		if !ok {
			continue
		}
		if hi == "*" {
			continue
		}
		n, err := strconv.Atoi(hi)
		if err != nil {
			return nil, 0, fmt.Errorf("attribute %q of %q: bad range: %w", a.Name, e.DN, err)
		}
		next = n + 1
	}
	return vals, next, nil
}

// rangeHigh returns hi of a "range=lo-hi" attribute option.
func rangeHigh(opts string) (string, bool) {
	for _, o := range strings.Split(opts, ";") {
		if r, ok := strings.CutPrefix(strings.ToLower(o), "range="); ok {
			if _, hi, ok := strings.Cut(r, "-"); ok {
				return hi, true
			}
		}
	}
	return "", false
}

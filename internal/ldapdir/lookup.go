package ldapdir

import (
	"context"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// lookupBatch bounds the ids looked up by one search.
const lookupBatch = 50

// Lookup finds entries by id anywhere below LookupBaseDN (default: the
// domain root of BaseDN), whatever the user filter, and returns the DN of
// each id found. An account whose id is found there left the sync's scope;
// one that is not found was removed from the directory.
func (c *Conn) Lookup(ctx context.Context, ids []string) (map[string]string, error) {
	return c.findIDs(ctx, c.lookupBase(), "", ids)
}

// InScope returns which of ids the sync's scope holds: entries below BaseDN
// that match UserFilter. A complete read that did not return such an entry
// missed it (it changed while the read went on, e.g. between the two
// searches of a disabled_filter): it is neither removed nor out of scope.
func (c *Conn) InScope(ctx context.Context, ids []string) (map[string]bool, error) {
	dns, err := c.findIDs(ctx, c.cfg.BaseDN, c.cfg.UserFilter, ids)
	if err != nil {
		return nil, err
	}
	in := make(map[string]bool, len(dns))
	for id := range dns {
		in[id] = true
	}
	return in, nil
}

// findIDs searches below base for the entries of ids that match filter
// (none: any entry) and returns the DN of each id found.
func (c *Conn) findIDs(ctx context.Context, base, filter string, ids []string) (map[string]string, error) {
	m := newMapper(c.cfg)
	attr := c.cfg.Attributes.ID
	found := map[string]string{}
	for start := 0; start < len(ids); start += lookupBatch {
		batch := ids[start:min(start+lookupBatch, len(ids))]
		var sb strings.Builder
		sb.WriteString("(|")
		for _, id := range batch {
			if m.guidID && strings.EqualFold(attr, "objectGUID") {
				v, err := GUIDFilterValue(id)
				if err != nil {
					continue // not a GUID: cannot be in this directory
				}
				sb.WriteString("(" + attr + "=" + v + ")")
			} else {
				sb.WriteString(FilterEquals(attr, id))
			}
		}
		sb.WriteString(")")
		f := sb.String()
		if filter != "" {
			f = andFilter(filter, f)
		}
		err := c.pagedSearch(ctx, base, f, []string{attr}, nil, func(entries []*ldap.Entry) error {
			for _, e := range entries {
				if id, reason := m.id(e); reason == "" {
					found[id] = e.DN
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return found, nil
}

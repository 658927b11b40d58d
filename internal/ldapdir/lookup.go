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
	base := c.cfg.LookupBaseDN
	if base == "" {
		base = domainRoot(c.cfg.BaseDN)
	}
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
		err := c.pagedSearch(ctx, base, sb.String(), []string{attr}, nil, func(entries []*ldap.Entry) error {
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

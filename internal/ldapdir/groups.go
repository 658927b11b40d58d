package ldapdir

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/adsync/adsync/events"
)

// Default group searches per directory type.
const (
	defaultADGroupFilter   = "(objectClass=group)"
	defaultLDAPGroupFilter = "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))"
)

// GroupGraph is every group of a directory with the groups it is a direct
// member of, so that a user's nested memberships can be resolved from its
// memberOf values without a query per user. Only groups are held in memory,
// never users.
type GroupGraph struct {
	groups map[string]*groupNode // by lower-cased DN
}

type groupNode struct {
	ref     events.GroupRef
	parents []string // lower-cased DNs
	inScope bool
}

// Groups returns the number of groups read.
func (g *GroupGraph) Groups() int { return len(g.groups) }

// ReadGroups reads every group below the group base (GroupBaseDN, default
// the root of BaseDN's domain components) with its memberOf, and marks the
// groups within scope: below scope.BaseDN (if set) and matching
// scope.Filter (if set, evaluated by the directory).
func (c *Conn) ReadGroups(ctx context.Context, scope events.Scope) (*GroupGraph, error) {
	g := &GroupGraph{groups: map[string]*groupNode{}}
	base, filter := c.groupBase(), c.groupFilter()
	a := c.cfg.Attributes
	attrs := []string{a.ID, "cn", a.Groups}
	err := c.pagedSearch(ctx, base, filter, attrs, nil, func(entries []*ldap.Entry) error {
		m := newMapper(c.cfg)
		for _, e := range entries {
			id, reason := m.id(e)
			if reason != "" {
				continue // a group without an id cannot be a local record
			}
			parents, err := c.allValues(e, a.Groups)
			if err != nil {
				return err
			}
			n := &groupNode{ref: events.GroupRef{ID: id, Name: first(e, "cn"), DN: e.DN}}
			for _, p := range parents {
				n.parents = append(n.parents, strings.ToLower(p))
			}
			g.groups[strings.ToLower(e.DN)] = n
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if scope.BaseDN == "" && scope.Filter == "" {
		for _, n := range g.groups {
			n.inScope = true
		}
		return g, nil
	}
	scopeBase, scopeFilter := base, filter
	if scope.BaseDN != "" {
		scopeBase = scope.BaseDN
	}
	if scope.Filter != "" {
		scopeFilter = andFilter(filter, scope.Filter)
	}
	err = c.pagedSearch(ctx, scopeBase, scopeFilter, []string{"1.1"}, nil, func(entries []*ldap.Entry) error {
		for _, e := range entries {
			if n, ok := g.groups[strings.ToLower(e.DN)]; ok {
				n.inScope = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// Resolve returns the in-scope groups a user belongs to, directly (its
// memberOf values) or through nested groups, sorted by name.
func (g *GroupGraph) Resolve(memberOf []string) []events.GroupRef {
	if g == nil || len(memberOf) == 0 {
		return nil
	}
	seen := map[string]bool{}
	queue := make([]string, 0, len(memberOf))
	for _, dn := range memberOf {
		queue = append(queue, strings.ToLower(dn))
	}
	var out []events.GroupRef
	for len(queue) > 0 {
		dn := queue[0]
		queue = queue[1:]
		if seen[dn] {
			continue // membership cycles end here
		}
		seen[dn] = true
		n, ok := g.groups[dn]
		if !ok {
			continue // outside the group base
		}
		if n.inScope {
			out = append(out, n.ref)
		}
		queue = append(queue, n.parents...)
	}
	slices.SortFunc(out, func(a, b events.GroupRef) int {
		if c := strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// Relevant reports whether a group's members matter to the sync: the group
// is within scope, or nested (at any depth) in a group that is. A change of
// any other group changes no synced membership.
func (g *GroupGraph) Relevant(dn string) bool {
	seen := map[string]bool{}
	queue := []string{strings.ToLower(dn)}
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		if seen[d] {
			continue
		}
		seen[d] = true
		n, ok := g.groups[d]
		if !ok {
			continue
		}
		if n.inScope {
			return true
		}
		queue = append(queue, n.parents...)
	}
	return false
}

func (c *Conn) groupBase() string {
	if c.cfg.GroupBaseDN != "" {
		return c.cfg.GroupBaseDN
	}
	return domainRoot(c.cfg.BaseDN)
}

func (c *Conn) groupFilter() string {
	if c.cfg.GroupFilter != "" {
		return c.cfg.GroupFilter
	}
	if c.cfg.Type == GenericLDAP {
		return defaultLDAPGroupFilter
	}
	return defaultADGroupFilter
}

// domainRoot is the part of a DN made of its trailing domain components
// (DC=corp,DC=example,DC=com), or the DN itself if it has none.
func domainRoot(dn string) string {
	parsed, err := ldap.ParseDN(dn)
	if err != nil {
		return dn
	}
	i := len(parsed.RDNs)
	for i > 0 {
		r := parsed.RDNs[i-1]
		if len(r.Attributes) != 1 || !strings.EqualFold(r.Attributes[0].Type, "dc") {
			break
		}
		i--
	}
	if i == len(parsed.RDNs) {
		return dn
	}
	parts := make([]string, 0, len(parsed.RDNs)-i)
	for _, r := range parsed.RDNs[i:] {
		parts = append(parts, r.Attributes[0].Type+"="+ldap.EscapeDN(r.Attributes[0].Value))
	}
	return strings.Join(parts, ",")
}

// pagedSearch runs a paged search and calls fn once per page; any error,
// including a missing paging control, ends it.
func (c *Conn) pagedSearch(ctx context.Context, base, filter string, attrs []string, extra []ldap.Control, fn func([]*ldap.Entry) error) error {
	return c.pagedSearchScope(ctx, base, ldap.ScopeWholeSubtree, filter, attrs, extra, fn)
}

// pagedSearchScope is pagedSearch with a scope.
func (c *Conn) pagedSearchScope(ctx context.Context, base string, scope int, filter string, attrs []string, extra []ldap.Control, fn func([]*ldap.Entry) error) error {
	stop := context.AfterFunc(ctx, func() { c.l.Close() })
	defer stop()
	ctl := &pagingControl{size: uint32(c.cfg.PageSize)}
	req := ldap.NewSearchRequest(base, scope, ldap.NeverDerefAliases,
		0, int(c.cfg.Timeout.Seconds()), false, filter, attrs, append([]ldap.Control{ctl}, extra...))
	for {
		res, err := c.l.Search(req)
		if err != nil {
			return fmt.Errorf("domain %q: search groups %s base %q filter %s: %w", c.cfg.Name, c.cfg.URL, base, filter, describeLDAP(c.cfg, err, "search"))
		}
		resp, ok := ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
		if err := fn(res.Entries); err != nil {
			if ok && len(resp.Cookie) > 0 {
				// Pages remain: end the search as RFC 2696 says (a size of
				// 0). Active Directory keeps a paged search's state until
				// it ends, a few per connection (MaxResultSetsPerConn).
				ctl.size, ctl.cookie = 0, resp.Cookie
				_, _ = c.l.Search(req)
			}
			return err
		}
		if !ok {
			return fmt.Errorf("domain %q: search groups base %q: the server's response has no paging control: %w", c.cfg.Name, base, ErrIncompleteRead)
		}
		if len(resp.Cookie) == 0 {
			return nil
		}
		ctl.cookie = resp.Cookie
	}
}

package ldapdir

import (
	"context"
	"errors"
	"fmt"
	"strings"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/adsync/adsync/events"
)

// What a delta read must see besides the users that changed in scope:
// users that left the scope (LeftScope), groups whose change moves users in
// or out of the scope without touching them (ScopeGroupsChanged: then a
// full read is needed), and, where the directory keeps no record of
// deletions, which users are still there (SweepIDs).

// Departure is a user that changed since the watermark and is no longer in
// the sync's scope: moved below another DN, or no longer matching the user
// filter. The directory still has it.
type Departure struct {
	ID string
	DN string
}

// inChainRule is Active Directory's LDAP_MATCHING_RULE_IN_CHAIN: nested
// membership.
const inChainRule = "1.2.840.113556.1.4.1941"

// lookupBase is where users are looked for whatever the sync's scope:
// LookupBaseDN, default the domain root of BaseDN.
func (c *Conn) lookupBase() string {
	if c.cfg.LookupBaseDN != "" {
		return c.cfg.LookupBaseDN
	}
	return domainRoot(c.cfg.BaseDN)
}

// anyUserFilter selects users whatever the sync's scope: those of the
// type's default filter or of the configured one.
func (c *Conn) anyUserFilter() string {
	def := defaultADFilter
	if c.cfg.Type == GenericLDAP {
		def = defaultLDAPFilter
	}
	if strings.EqualFold(c.cfg.UserFilter, def) {
		return def
	}
	return "(|" + c.cfg.UserFilter + def + ")"
}

// ErrTooManyChanged is ChangedUsers' answer when more users changed than
// it was allowed to hold.
var ErrTooManyChanged = errors.New("more users changed than the search may hold")

// ChangedUsers returns the users that changed since the delta read's
// watermark (ChangedSince) anywhere below the lookup base, those keep
// accepts: what LeftScope looks for departures in. A move (modrdn) and a
// change of a filtered attribute both change the user, so both are found
// here at the cost of the changes, not of the directory. With max > 0 it
// holds at most max of them and otherwise stops with ErrTooManyChanged.
// It may run while the users are read (they have a connection of their
// own): where the filter cannot use an index, as Samba's cannot for a
// range of USNs, it is a scan of every user.
func (c *Conn) ChangedUsers(ctx context.Context, keep func(id string) bool, max int) ([]Departure, error) {
	if c.changed == "" {
		return nil, fmt.Errorf("domain %q: ChangedUsers needs a delta read (ChangedSince)", c.cfg.Name)
	}
	m := newMapper(c.cfg)
	var out []Departure
	filter := andFilter(c.changed, c.anyUserFilter())
	err := c.pagedSearch(ctx, c.lookupBase(), filter, []string{c.cfg.Attributes.ID}, nil, func(entries []*ldap.Entry) error {
		for _, e := range entries {
			if id, reason := m.id(e); reason == "" && keep(id) {
				out = append(out, Departure{ID: id, DN: e.DN})
			}
		}
		if max > 0 && len(out) > max {
			return ErrTooManyChanged
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// LeftScope returns those of the changed users (ChangedUsers) that the
// read did not return (inRead reports the ids it did) and that are not in
// the scope now. Call it after the read: a user that changed for the
// first time after the read searched for it is checked against the scope
// again, so it is never taken for a departure.
func (c *Conn) LeftScope(ctx context.Context, changed []Departure, inRead func(id string) bool) ([]Departure, error) {
	var out []Departure
	for _, d := range changed {
		if !inRead(d.ID) {
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	// Below the base DN, the user filter decides: ask the directory about
	// those (the race above lands here too). Elsewhere, the user is out of
	// scope now, whatever the filter says.
	base, err := ldap.ParseDN(c.cfg.BaseDN)
	if err != nil {
		return nil, fmt.Errorf("domain %q: base DN %q: %w", c.cfg.Name, c.cfg.BaseDN, err)
	}
	var below []string
	for _, d := range out {
		if dn, err := ldap.ParseDN(d.DN); err == nil && (base.EqualFold(dn) || base.AncestorOfFold(dn)) {
			below = append(below, d.ID)
		}
	}
	in, err := c.InScope(ctx, below)
	if err != nil {
		return nil, err
	}
	left := out[:0]
	for _, d := range out {
		if !in[d.ID] {
			left = append(left, d)
		}
	}
	return left, nil
}

// ScopeGroupsChanged returns the DNs of the groups the user filter names
// with memberOf that changed since w, and of the groups nested in them when
// the filter asks for nested membership (Active Directory's in-chain rule).
// Adding or removing a member changes the group, not the member (Active
// Directory's memberOf is a back-link; OpenLDAP's memberof overlay leaves
// the member's modifyTimestamp alone), so such a change takes a user in
// or out of the scope without any change a delta read of users would see.
func (c *Conn) ScopeGroupsChanged(ctx context.Context, w events.Watermark) ([]string, error) {
	named, chained, err := memberOfGroups(c.cfg.UserFilter, c.cfg.Attributes.Groups)
	if err != nil || len(named) == 0 {
		return nil, err
	}
	changed, err := c.changedClause(w)
	if err != nil {
		return nil, err
	}
	var dns []string
	collect := func(entries []*ldap.Entry) error {
		for _, e := range entries {
			dns = append(dns, e.DN)
		}
		return nil
	}
	for _, dn := range named {
		err := c.pagedSearchScope(ctx, dn, ldap.ScopeBaseObject, changed, []string{"1.1"}, nil, collect)
		if err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
			return nil, err
		}
	}
	if chained && c.cfg.Type == ActiveDirectory {
		var nested strings.Builder
		nested.WriteString("(|")
		for _, dn := range named {
			nested.WriteString("(memberOf:" + inChainRule + ":=" + ldap.EscapeFilter(dn) + ")")
		}
		nested.WriteString(")")
		if err := c.pagedSearch(ctx, c.lookupBase(), andFilter(changed, c.groupFilter(), nested.String()), []string{"1.1"}, nil, collect); err != nil {
			return nil, err
		}
	}
	return dns, nil
}

// memberOfGroups returns the values of the filter's assertions on the
// membership attribute (memberOf), and whether one of them uses the
// in-chain rule.
func memberOfGroups(filter, attr string) (dns []string, chained bool, err error) {
	if attr == "" {
		attr = "memberOf"
	}
	p, err := ldap.CompileFilter(filter)
	if err != nil {
		return nil, false, fmt.Errorf("user filter %s: %w", filter, err)
	}
	var walk func(p *ber.Packet)
	walk = func(p *ber.Packet) {
		switch p.Tag {
		case ldap.FilterEqualityMatch:
			if len(p.Children) == 2 && strings.EqualFold(p.Children[0].Data.String(), attr) {
				dns = append(dns, p.Children[1].Data.String())
			}
			return
		case ldap.FilterExtensibleMatch:
			var rule, typ, value string
			for _, ch := range p.Children {
				switch ch.Tag {
				case 1:
					rule = ch.Data.String()
				case 2:
					typ = ch.Data.String()
				case 3:
					value = ch.Data.String()
				}
			}
			if strings.EqualFold(typ, attr) && value != "" {
				dns = append(dns, value)
				chained = chained || rule == inChainRule
			}
			return
		}
		for _, ch := range p.Children {
			walk(ch)
		}
	}
	walk(p)
	return dns, chained, nil
}

// SweepIDs calls fn with the ids of every user in the sync's scope, a page
// at a time, reading the id attribute alone. A delta read of a directory
// that keeps no record of deletions (generic LDAP) lists them so that the
// users gone since the last read are found as a full read finds them.
func (c *Conn) SweepIDs(ctx context.Context, fn func(ids []string) error) error {
	m := newMapper(c.cfg)
	return c.pagedSearch(ctx, c.cfg.BaseDN, c.cfg.UserFilter, []string{c.cfg.Attributes.ID}, nil, func(entries []*ldap.Entry) error {
		ids := make([]string, 0, len(entries))
		for _, e := range entries {
			if id, reason := m.id(e); reason == "" {
				ids = append(ids, id)
			}
		}
		return fn(ids)
	})
}

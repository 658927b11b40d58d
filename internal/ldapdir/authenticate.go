package ldapdir

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// ErrBadCredentials is a user name or password the directory does not
// accept (or a user it does not have, or more than one of that name).
var ErrBadCredentials = errors.New("wrong name or password")

// adInChain is Active Directory's LDAP_MATCHING_RULE_IN_CHAIN: membership
// through nested groups.
const adInChain = "1.2.840.113556.1.4.1941"

// Authenticate checks a directory user's own password, for the console's
// directory sign-in: the service account finds the user by user name
// below the lookup base, then a connection of its own binds as that user
// (over verified TLS, as every connection). It returns the user's DN and
// those of groups that the user belongs to, directly or through nested
// groups.
func Authenticate(ctx context.Context, cfg Config, username, password string, groups []string) (string, []string, error) {
	cfg = cfg.WithDefaults()
	if username == "" || password == "" {
		return "", nil, ErrBadCredentials
	}
	svc, err := Dial(ctx, cfg)
	if err != nil {
		return "", nil, err
	}
	defer svc.Close()
	base := cfg.LookupBaseDN
	if base == "" {
		base = domainRoot(cfg.BaseDN)
	}
	filter := fmt.Sprintf("(&%s(%s=%s))", cfg.UserFilter, cfg.Attributes.Username, ldap.EscapeFilter(username))
	var found []string
	err = svc.pagedSearch(ctx, base, filter, []string{"1.1"}, nil, func(es []*ldap.Entry) error {
		for _, e := range es {
			found = append(found, e.DN)
		}
		return nil
	})
	if err != nil {
		return "", nil, fmt.Errorf("domain %q: find user %s: %w", cfg.Name, username, err)
	}
	if len(found) != 1 {
		return "", nil, ErrBadCredentials
	}
	dn := found[0]
	as := cfg
	as.BindDN, as.BindPassword = dn, password
	user, err := dialBind(ctx, as)
	if err != nil {
		var le *ldap.Error
		if errors.As(err, &le) && le.ResultCode == ldap.LDAPResultInvalidCredentials {
			return "", nil, ErrBadCredentials
		}
		return "", nil, err
	}
	_ = user.Close()
	var member []string
	for _, g := range groups {
		ok, err := svc.memberOf(ctx, dn, g)
		if err != nil {
			return "", nil, fmt.Errorf("domain %q: is %s in %s: %w", cfg.Name, username, g, err)
		}
		if ok {
			member = append(member, g)
		}
	}
	return dn, member, nil
}

// memberOf says whether the user is in the group, nested groups included:
// on Active Directory by the in-chain rule, elsewhere by walking up the
// groups that list the user (member or uniqueMember), at most 20 levels.
func (c *Conn) memberOf(ctx context.Context, userDN, groupDN string) (bool, error) {
	if c.cfg.Type != GenericLDAP {
		var hit bool
		err := c.pagedSearchScope(ctx, userDN, ldap.ScopeBaseObject, fmt.Sprintf("(memberOf:%s:=%s)", adInChain, ldap.EscapeFilter(groupDN)),
			[]string{"1.1"}, nil, func(es []*ldap.Entry) error { hit = hit || len(es) > 0; return nil })
		return hit, err
	}
	want, err := ldap.ParseDN(groupDN)
	if err != nil {
		return false, fmt.Errorf("group %q is not a DN: %w", groupDN, err)
	}
	seen := map[string]bool{}
	frontier := []string{userDN}
	for depth := 0; depth < 20 && len(frontier) > 0; depth++ {
		var next []string
		for _, dn := range frontier {
			q := ldap.EscapeFilter(dn)
			err := c.pagedSearch(ctx, c.groupBase(), fmt.Sprintf("(|(member=%s)(uniqueMember=%s))", q, q), []string{"1.1"}, nil, func(es []*ldap.Entry) error {
				for _, e := range es {
					key := strings.ToLower(e.DN)
					if !seen[key] {
						seen[key] = true
						next = append(next, e.DN)
					}
				}
				return nil
			})
			if err != nil {
				return false, err
			}
		}
		for _, g := range next {
			if parsed, err := ldap.ParseDN(g); err == nil && parsed.EqualFold(want) {
				return true, nil
			}
		}
		frontier = next
	}
	return false, nil
}

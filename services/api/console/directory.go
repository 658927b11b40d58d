package console

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/adsync/adsync/internal/ldapdir"
	"github.com/adsync/adsync/internal/signin"
)

// Directory lets the users of one domain sign in with their own
// credentials; their groups give their role.
type Directory struct {
	Name  string
	LDAP  ldapdir.Config
	Roles []GroupRole
}

// GroupRole gives the members of a group (nested included) a role.
type GroupRole struct {
	Group, Role string
}

// errNoRole is a directory user in none of the groups with a role.
var errNoRole = errors.New("in no group that has a console role (console.roles)")

// directoryFor reads "user@domain" or "domain\user" for a domain whose
// users may sign in; ok is false for any other name (a local
// administrator's).
func (c *Console) directoryFor(name string) (*Directory, string, bool) {
	var dom, user string
	if d, u, found := strings.Cut(name, `\`); found {
		dom, user = d, u
	} else if i := strings.LastIndex(name, "@"); i > 0 {
		user, dom = name[:i], name[i+1:]
	} else {
		return nil, "", false
	}
	for i := range c.cfg.Directories {
		if strings.EqualFold(c.cfg.Directories[i].Name, dom) {
			return &c.cfg.Directories[i], user, true
		}
	}
	return nil, "", false
}

// signInDirectory checks a directory user's password by binding as them,
// and gives them the highest role among their groups.
func (c *Console) signInDirectory(ctx context.Context, d *Directory, user, password string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	groups := make([]string, 0, len(d.Roles))
	for _, r := range d.Roles {
		groups = append(groups, r.Group)
	}
	_, member, err := ldapdir.Authenticate(ctx, d.LDAP, user, password, groups)
	if err != nil {
		if errors.Is(err, ldapdir.ErrBadCredentials) {
			return "", signin.ErrBadPassword
		}
		return "", err
	}
	role := ""
	for _, r := range d.Roles {
		for _, g := range member {
			if g == r.Group && signin.Rank(r.Role) > signin.Rank(role) {
				role = r.Role
			}
		}
	}
	if role == "" {
		return "", errNoRole
	}
	return role, nil
}

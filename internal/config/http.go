package config

import (
	"fmt"

	"github.com/adsync/adsync/services/api"
	"github.com/adsync/adsync/services/api/console"
)

// minTokenLength: a shorter API token is refused (it could be guessed).
const minTokenLength = 16

// APIConfig returns the api service's configuration, with its tokens read.
func (f *File) APIConfig(env Env) (api.Config, error) {
	c := api.Config{Listen: f.HTTP.Listen, TLSCertFile: f.HTTP.TLSCertFile, TLSKeyFile: f.HTTP.TLSKeyFile}
	for _, t := range f.HTTP.Tokens {
		secret, err := Secret(t.TokenFile, t.TokenEnv, env)
		if err != nil {
			return c, fmt.Errorf("http.tokens %s: %w", t.Name, err)
		}
		if len(secret) < minTokenLength {
			return c, fmt.Errorf("http.tokens %s: the token is shorter than %d characters (make one with: openssl rand -hex 32)", t.Name, minTokenLength)
		}
		role, _ := api.ParseRole(t.Role) // validated with the file
		c.Tokens = append(c.Tokens, api.Token{Name: t.Name, Secret: secret, Role: role})
	}
	if len(f.Console.Roles) == 0 {
		return c, nil
	}
	dirs, err := f.Directories(env)
	if err != nil {
		return c, err
	}
	for _, d := range dirs {
		var roles []console.GroupRole
		for _, r := range f.Console.Roles {
			if r.Domain == d.Name {
				roles = append(roles, console.GroupRole{Group: r.Group, Role: r.Role})
			}
		}
		if len(roles) > 0 {
			c.Directories = append(c.Directories, console.Directory{Name: d.Name, LDAP: d, Roles: roles})
		}
	}
	return c, nil
}

package accounts

import (
	"fmt"
	"strings"
)

// Local-name rules: how a directory user's local account is named, so that
// the same username in two domains gives two distinct accounts.
const (
	RuleUserAtDomain    = "user@domain" // alice@corp
	RuleDomainBackslash = `DOMAIN\user` // CORP\alice
)

// LocalNamer applies a local-name rule.
type LocalNamer string

// Validate checks the rule.
func (r LocalNamer) Validate() error {
	switch r {
	case RuleUserAtDomain, RuleDomainBackslash:
		return nil
	}
	return fmt.Errorf("local-name rule %q: use %s or %s", string(r), RuleUserAtDomain, RuleDomainBackslash)
}

// Name returns the local name of a domain's user.
func (r LocalNamer) Name(domain, username string) string {
	if r == RuleDomainBackslash {
		return strings.ToUpper(domain) + `\` + username
	}
	return username + "@" + domain
}

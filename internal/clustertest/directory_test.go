package clustertest

import (
	"fmt"
	"sort"
	"testing"

	"github.com/adsync/adsync/internal/testenv/slapd"
	"github.com/adsync/adsync/services/account-writer/accounts"
)

// dirUser is what the test compares of a directory user and its account.
type dirUser struct {
	Username, Email string
}

// directoryUsers reads every inetOrgPerson of the slapd over LDAPS, keyed
// by entryUUID (what adsync uses as external_id).
func directoryUsers(t *testing.T, s *slapd.Server) map[string]dirUser {
	t.Helper()
	entries := s.Users(t, "entryUUID", "uid", "mail")
	users := make(map[string]dirUser, len(entries))
	for _, e := range entries {
		users[e.GetAttributeValue("entryUUID")] = dirUser{Username: e.GetAttributeValue("uid"), Email: e.GetAttributeValue("mail")}
	}
	return users
}

// assertAccountsEqualDirectory checks that the accounts are exactly the
// users of the directory of domain "lab", active, with their current
// username and email.
func assertAccountsEqualDirectory(t *testing.T, list []accounts.Account, dir map[string]dirUser) {
	t.Helper()
	assertAccountsEqualDirectories(t, list, map[string]map[string]dirUser{"lab": dir})
}

// assertAccountsEqualDirectories checks that the accounts are exactly the
// users of the directories (domain -> entryUUID -> user), each in its
// domain, active, with its current username and email.
func assertAccountsEqualDirectories(t *testing.T, list []accounts.Account, dirs map[string]map[string]dirUser) {
	t.Helper()
	domainOf := map[string]string{}
	total := 0
	for domain, dir := range dirs {
		total += len(dir)
		for id := range dir {
			domainOf[id] = domain
		}
	}
	if len(list) != total {
		t.Errorf("%d accounts, %d directory users", len(list), total)
	}
	var wrong []string
	seen := map[string]bool{}
	for _, a := range list {
		seen[a.ExternalID] = true
		domain, ok := domainOf[a.ExternalID]
		u := dirs[domain][a.ExternalID]
		switch {
		case !ok:
			wrong = append(wrong, fmt.Sprintf("account %s (%s) is no directory entryUUID", a.ExternalID, a.Username))
		case !a.Active || a.Domain != domain || a.Username != u.Username || a.Email != u.Email:
			wrong = append(wrong, fmt.Sprintf("account %s: domain %s active %t %s <%s>, directory %s: %s <%s>",
				a.ExternalID, a.Domain, a.Active, a.Username, a.Email, domain, u.Username, u.Email))
		}
	}
	for id, domain := range domainOf {
		if !seen[id] {
			wrong = append(wrong, fmt.Sprintf("directory user %s (%s of %s) has no account", id, dirs[domain][id].Username, domain))
		}
	}
	sort.Strings(wrong)
	for i, w := range wrong {
		if i == 10 {
			t.Errorf("... and %d more", len(wrong)-10)
			break
		}
		t.Error(w)
	}
	if len(wrong) > 0 {
		t.FailNow()
	}
}

// changeMails gives users from..to-1 (1-based numbers of the preloaded
// users) a new mail address tagged with tag.
func changeMails(t *testing.T, s *slapd.Server, from, to int, tag string) {
	t.Helper()
	for i := from; i < to; i++ {
		uid := fmt.Sprintf("user%07d", i)
		s.Modify(t, "uid="+uid+","+s.UsersDN, "mail", fmt.Sprintf("%s.%s@changed.example.org", uid, tag))
	}
}

// staleAccounts counts the accounts whose username or email differs from
// the directory: what the next run must update (an earlier run that did not
// complete leaves its changes to the next one).
func staleAccounts(t *testing.T, list []accounts.Account, dir map[string]dirUser) int {
	t.Helper()
	n := 0
	for _, a := range list {
		if u, ok := dir[a.ExternalID]; ok && (u.Username != a.Username || u.Email != a.Email) {
			n++
		}
	}
	return n
}

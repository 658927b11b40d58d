package api

import (
	"testing"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/services/account-writer/accounts"
)

// A user's version changes with anything a SCIM client sees of it, and
// only then.
func TestUserVersionFollowsItsContent(t *testing.T) {
	base := accounts.UserRecord{Account: events.Account{Domain: "corp", ExternalID: "a1", LocalName: "alice@corp", DisplayName: "Alice",
		GivenName: "Alice", Surname: "A", Email: "alice@example.org", Active: true, CreatedAt: "c", UpdatedAt: "u"},
		GroupRefs: []accounts.GroupRef{{ID: "corp:g1", Name: "staff"}}}
	was := scimUser(base, "https://x/scim/v2").Meta.Version
	if again := scimUser(base, "https://y/scim/v2").Meta.Version; again != was {
		t.Fatalf("same content, another host: version %s, was %s", again, was)
	}
	for _, c := range []struct {
		name   string
		change func(*accounts.UserRecord)
	}{
		{"display name", func(u *accounts.UserRecord) { u.DisplayName = "Alice B" }},
		{"inactive", func(u *accounts.UserRecord) { u.Active = false }},
		{"e-mail", func(u *accounts.UserRecord) { u.Email = "" }},
		{"a group renamed", func(u *accounts.UserRecord) { u.GroupRefs = []accounts.GroupRef{{ID: "corp:g1", Name: "staff-2"}} }},
		{"a group left", func(u *accounts.UserRecord) { u.GroupRefs = nil }},
		{"fields shifted", func(u *accounts.UserRecord) { u.GivenName, u.Surname = "AliceA", "" }},
		{"modified", func(u *accounts.UserRecord) { u.UpdatedAt = "u2" }},
	} {
		u := base
		c.change(&u)
		if got := scimUser(u, "https://x/scim/v2").Meta.Version; got == was {
			t.Errorf("%s: version unchanged (%s)", c.name, got)
		}
	}
}

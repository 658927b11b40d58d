package api

import (
	"testing"

	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/services/account-writer/accounts"
)

// A user's version changes with anything a SCIM client sees of it, and
// only then.
func TestUserVersionFollowsItsContent(t *testing.T) {
	base := accounts.SCIMUser{Domain: "corp", ExternalID: "a1", LocalName: "alice@corp", DisplayName: "Alice",
		GivenName: "Alice", Surname: "A", Email: "alice@example.org", Active: true, CreatedAt: "c", UpdatedAt: "u",
		GroupRefs: json.RawMessage(`[{"id":"corp:g1","name":"staff"}]`)}
	version := func(u accounts.SCIMUser, base string) string {
		t.Helper()
		doc, err := scimUser(u, base)
		if err != nil {
			t.Fatal(err)
		}
		return doc.Meta.Version
	}
	was := version(base, "https://x/scim/v2")
	if again := version(base, "https://y/scim/v2"); again != was {
		t.Fatalf("same content, another host: version %s, was %s", again, was)
	}
	for _, c := range []struct {
		name   string
		change func(*accounts.SCIMUser)
	}{
		{"display name", func(u *accounts.SCIMUser) { u.DisplayName = "Alice B" }},
		{"inactive", func(u *accounts.SCIMUser) { u.Active = false }},
		{"e-mail", func(u *accounts.SCIMUser) { u.Email = "" }},
		{"a group renamed", func(u *accounts.SCIMUser) { u.GroupRefs = json.RawMessage(`[{"id":"corp:g1","name":"staff-2"}]`) }},
		{"a group left", func(u *accounts.SCIMUser) { u.GroupRefs = nil }},
		{"fields shifted", func(u *accounts.SCIMUser) { u.GivenName, u.Surname = "AliceA", "" }},
		{"modified", func(u *accounts.SCIMUser) { u.UpdatedAt = "u2" }},
	} {
		u := base
		c.change(&u)
		if got := version(u, "https://x/scim/v2"); got == was {
			t.Errorf("%s: version unchanged (%s)", c.name, got)
		}
	}
}

// Groups account-writer sent that cannot be read are an error, not a user
// without groups.
func TestUserWithUnreadableGroups(t *testing.T) {
	u := accounts.SCIMUser{Domain: "corp", ExternalID: "a1", LocalName: "alice@corp", GroupRefs: json.RawMessage(`[{"id":`)}
	if _, err := scimUser(u, "https://x/scim/v2"); err == nil {
		t.Fatal("a user with unreadable groups was made a SCIM user")
	}
}

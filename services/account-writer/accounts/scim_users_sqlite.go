package accounts

import (
	"context"
	"database/sql"

	"github.com/segmentio/encoding/json"
)

// SCIMUser is an account with what the api's SCIM User is made of, and no
// more. A client paging through a million users moves each of them
// through account-writer, NATS and the api: with every column (UserRecord)
// a page of 1,000 was 0.5 MB of JSON, and its encoding and decoding twice
// the time of this one's.
type SCIMUser struct {
	Domain      string `json:"domain"`
	ExternalID  string `json:"external_id"`
	LocalName   string `json:"local_name"`
	DisplayName string `json:"display_name,omitempty"`
	GivenName   string `json:"given_name,omitempty"`
	Surname     string `json:"surname,omitempty"`
	Email       string `json:"email,omitempty"`
	Active      bool   `json:"active"`
	CreatedAt   string `json:"created_at"`
	UpdatedAt   string `json:"updated_at"`
	// GroupRefs are the account's groups as SQLite wrote them, a JSON
	// array of GroupRef, passed through undecoded (Groups decodes them).
	GroupRefs json.RawMessage `json:"group_refs,omitempty"`
}

// Groups are the user's groups.
func (u SCIMUser) Groups() ([]GroupRef, error) {
	var refs []GroupRef
	if len(u.GroupRefs) == 0 {
		return refs, nil
	}
	return refs, json.Unmarshal(u.GroupRefs, &refs)
}

// SCIMUserPage is one page of SCIM users and how many match in all, as the
// api decodes it.
type SCIMUserPage struct {
	Total int        `json:"total"`
	Users []SCIMUser `json:"users"`
}

// SCIMUserRows is a page of SCIM users as account-writer sends it: each
// user a SCIMUser's JSON that SQLite wrote (json_object). Scanned column
// by column, a page of 1,000 users was 24,000 allocations in account-writer
// (a string and its boxing a column) and their encoding; now it is one
// value a user, passed through.
type SCIMUserRows struct {
	Total int               `json:"total"`
	Users []json.RawMessage `json:"users"`
}

// scimUserColumns are the paging key and the user's JSON, with SCIMUser's
// names.
const scimUserColumns = `a.domain, a.username, a.external_id, json_object('domain', a.domain, 'external_id', a.external_id,
	'local_name', a.local_name, 'display_name', a.display_name, 'given_name', a.given_name, 'surname', a.surname, 'email', a.email,
	'active', json(CASE WHEN a.active THEN 'true' ELSE 'false' END), 'created_at', a.created_at, 'updated_at', a.updated_at,
	'group_refs', json(` + userGroupRefs + `))`

// QuerySCIMUsers answers a SCIM search of users as QueryUsers does, with
// SCIM's attributes only.
func (s *Store) QuerySCIMUsers(ctx context.Context, q Query) (SCIMUserRows, error) {
	page := SCIMUserRows{Users: []json.RawMessage{}}
	var err error
	page.Total, err = s.queryUsers(ctx, q, scimUserColumns, func(n int) { page.Users = make([]json.RawMessage, 0, n) },
		func(rows *sql.Rows) (accountKey, error) {
			var k accountKey
			var user sql.RawBytes
			if err := rows.Scan(&k.Domain, &k.Username, &k.ID, &user); err != nil {
				return k, err
			}
			page.Users = append(page.Users, append(json.RawMessage(nil), user...))
			return k, nil
		})
	return page, err
}

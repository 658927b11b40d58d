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
	Username    string `json:"-"` // the paging key's, not SCIM's
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

// SCIMUserPage is one page of SCIM users and how many match in all.
type SCIMUserPage struct {
	Total int        `json:"total"`
	Users []SCIMUser `json:"users"`
}

const scimUserFields = `a.domain, a.external_id, a.username, a.local_name, a.display_name, a.given_name, a.surname, a.email, a.active,
	a.created_at, a.updated_at`

// QuerySCIMUsers answers a SCIM search of users as QueryUsers does, with
// SCIM's attributes only.
func (s *Store) QuerySCIMUsers(ctx context.Context, q Query) (SCIMUserPage, error) {
	page := SCIMUserPage{Users: []SCIMUser{}}
	var err error
	page.Total, err = s.queryUsers(ctx, q, scimUserFields, func(n int) { page.Users = make([]SCIMUser, 0, n) },
		func(rows *sql.Rows) (accountKey, error) {
			var u SCIMUser
			var refs sql.RawBytes
			if err := rows.Scan(&u.Domain, &u.ExternalID, &u.Username, &u.LocalName, &u.DisplayName, &u.GivenName, &u.Surname, &u.Email,
				&u.Active, &u.CreatedAt, &u.UpdatedAt, &refs); err != nil {
				return accountKey{}, err
			}
			if string(refs) != "[]" {
				u.GroupRefs = append(json.RawMessage(nil), refs...)
			}
			page.Users = append(page.Users, u)
			return accountKey{u.Domain, u.Username, u.ExternalID}, nil
		})
	return page, err
}

package accounts

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/segmentio/encoding/json"
)

// GroupRef names a group: ID is domain:external_id.
type GroupRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// UserRecord is an account with its groups' ids, for SCIM.
type UserRecord struct {
	Account
	GroupRefs []GroupRef `json:"group_refs"`
}

// GroupRecord is a group and, if asked for, its members.
type GroupRecord struct {
	Domain     string      `json:"domain"`
	ExternalID string      `json:"external_id"`
	Name       string      `json:"name"`
	DN         string      `json:"dn"`
	UpdatedAt  string      `json:"updated_at"`
	Members    []MemberRef `json:"members,omitempty"`
}

// MemberRef is a group's member: ID is domain:external_id.
type MemberRef struct {
	ID        string `json:"id"`
	LocalName string `json:"local_name"`
}

// Query selects SCIM resources: a filter, the 1-based index of the first
// and how many (SCIM's startIndex and count).
type Query struct {
	Filter     string `json:"filter,omitempty"`
	StartIndex int    `json:"start_index"`
	Count      int    `json:"count"`
	// Members: list each group's members (Groups only).
	Members bool `json:"members,omitempty"`
	// CountAtMost stops counting the matches there (0: count them all,
	// as SCIM's totalResults must): the console says "10,000+" rather
	// than read a million rows to say how many.
	CountAtMost int `json:"count_at_most,omitempty"`
	// Follows: the page before (StartIndex-Count) was asked for first;
	// this one continues after its last user, waiting for it to be read
	// (ErrPageBeforeNotRead if it is not, within a second).
	Follows bool `json:"follows,omitempty"`
}

func (q Query) bounds() (offset, limit int) {
	offset = max(q.StartIndex, 1) - 1
	limit = q.Count
	if limit < 0 {
		limit = 0
	}
	return offset, min(limit, 5000)
}

// UserPage is one page of users and how many match in all.
type UserPage struct {
	Total int          `json:"total"`
	Users []UserRecord `json:"users"`
}

// GroupPage is one page of groups and how many match in all.
type GroupPage struct {
	Total  int           `json:"total"`
	Groups []GroupRecord `json:"groups"`
}

const userGroupRefs = `(SELECT coalesce(json_group_array(json_object('id', g.domain || ':' || g.external_id, 'name', g.name)), '[]')
	FROM memberships m JOIN groups g ON g.domain=m.domain AND g.external_id=m.group_id
	WHERE m.account=a.id)`

// sortFewUpTo: a result of at most this many accounts is read through
// the filter's index and sorted, rather than in the paging order.
const sortFewUpTo = 5000

// QueryUsers answers a search of users (the console's), in (domain,
// username, id) order, with every column of each account.
func (s *Store) QueryUsers(ctx context.Context, q Query) (UserPage, error) {
	page := UserPage{Users: []UserRecord{}}
	var err error
	page.Total, err = s.queryUsers(ctx, q, accountFields+`, `+userGroupRefs, func(n int) { page.Users = make([]UserRecord, 0, n) },
		func(rows *sql.Rows) (accountKey, error) {
			var u UserRecord
			var refs string
			if err := rows.Scan(fieldsOf(&u.Account, &refs)...); err != nil {
				return accountKey{}, err
			}
			if err := json.Unmarshal([]byte(refs), &u.GroupRefs); err != nil {
				return accountKey{}, fmt.Errorf("accounts: groups of %s: %w", u.LocalName, err)
			}
			// The names from the references, in the order scanAccount's
			// query gives them: one subquery of an account's groups a row,
			// not two (a third of a page's time).
			u.Groups = make([]string, len(u.GroupRefs))
			for i, g := range u.GroupRefs {
				u.Groups[i] = g.Name
			}
			slices.Sort(u.Groups)
			page.Users = append(page.Users, u)
			return accountKey{u.Domain, u.Username, u.ExternalID}, nil
		})
	return page, err
}

// queryUsers counts the users q's filter matches and reads q's page of
// them: the columns fields (of accounts a), a row at a time to row. sized
// is told first how many rows come at most. A whole page leaves its last
// key for the next (pageCache).
func (s *Store) queryUsers(ctx context.Context, q Query, fields string, sized func(n int), row func(*sql.Rows) (accountKey, error)) (int, error) {
	where, args, err := scimWhere(q.Filter, false, func() ([]string, error) { return s.domainsOf(ctx, "accounts") })
	if err != nil {
		return 0, err
	}
	count := `SELECT count(*) FROM accounts a WHERE ` + where
	countArgs := args
	if q.CountAtMost > 0 {
		count = `SELECT count(*) FROM (SELECT 1 FROM accounts a WHERE ` + where + ` LIMIT ?)`
		countArgs = append(slices.Clone(args), q.CountAtMost)
	}
	countKey := q.Filter + "\x00" + strconv.Itoa(q.CountAtMost)
	now := time.Now()
	total, ok := s.pages.total(countKey, now)
	if !ok {
		if err := s.db.Reader.QueryRowContext(ctx, count, countArgs...).Scan(&total); err != nil {
			return 0, fmt.Errorf("accounts: count users: %w", err)
		}
		s.pages.setTotal(countKey, total, now)
	}
	offset, limit := q.bounds()
	if limit == 0 || offset >= total {
		return total, nil
	}
	query := `SELECT ` + fields + ` FROM accounts a WHERE ` + where
	if total <= sortFewUpTo {
		// Few matches: found through the filter's own index, then sorted.
		// In (domain, username) order SQLite walks every account to find
		// them (meta.lastModified gt an hour ago: 273 ms at 1,000,000).
		query = `WITH a AS MATERIALIZED (SELECT * FROM accounts a WHERE ` + where + `) SELECT ` + fields +
			` FROM a WHERE 1=1`
	}
	queryArgs := slices.Clone(args)
	k, ok := s.pages.after(q.Filter, max(q.StartIndex, 1))
	if !ok && q.Follows && q.StartIndex > 1 {
		if k, err = s.pages.waitAfter(ctx, q.Filter, q.StartIndex); err != nil {
			return total, err
		}
		ok = true
	}
	if ok {
		query += ` AND (a.domain, a.username, a.external_id) > (?, ?, ?) ORDER BY a.domain, a.username, a.external_id LIMIT ?`
		queryArgs = append(queryArgs, k.Domain, k.Username, k.ID, limit)
	} else {
		query += ` ORDER BY a.domain, a.username, a.external_id LIMIT ? OFFSET ?`
		queryArgs = append(queryArgs, limit, offset)
	}
	rows, err := s.db.Reader.QueryContext(ctx, query, queryArgs...)
	if err != nil {
		return total, fmt.Errorf("accounts: query users: %w", err)
	}
	defer rows.Close()
	sized(min(limit, total-offset))
	n := 0
	var last accountKey
	for rows.Next() {
		if last, err = row(rows); err != nil {
			return total, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return total, err
	}
	if n == limit {
		s.pages.remember(q.Filter, max(q.StartIndex, 1)+n, last)
	}
	return total, nil
}

// QueryGroups answers a SCIM search of groups, in (domain, name) order.
func (s *Store) QueryGroups(ctx context.Context, q Query) (GroupPage, error) {
	where, args, err := scimWhere(q.Filter, true, func() ([]string, error) { return s.domainsOf(ctx, "groups") })
	if err != nil {
		return GroupPage{}, err
	}
	page := GroupPage{Groups: []GroupRecord{}}
	if err := s.db.Reader.QueryRowContext(ctx, `SELECT count(*) FROM groups g WHERE `+where, args...).Scan(&page.Total); err != nil {
		return page, fmt.Errorf("accounts: count groups: %w", err)
	}
	offset, limit := q.bounds()
	if limit == 0 || offset >= page.Total {
		return page, nil
	}
	members := `'[]'`
	if q.Members {
		members = `(SELECT coalesce(json_group_array(json_object('id', a.domain || ':' || a.external_id, 'local_name', a.local_name)), '[]')
			FROM memberships m JOIN accounts a ON a.id=m.account
			WHERE m.domain=g.domain AND m.group_id=g.external_id)`
	}
	rows, err := s.db.Reader.QueryContext(ctx, `SELECT g.domain, g.external_id, g.name, g.dn, g.updated_at, `+members+
		` FROM groups g WHERE `+where+` ORDER BY g.domain, g.name, g.external_id LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return page, fmt.Errorf("accounts: query groups: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var g GroupRecord
		var m string
		if err := rows.Scan(&g.Domain, &g.ExternalID, &g.Name, &g.DN, &g.UpdatedAt, &m); err != nil {
			return page, err
		}
		if err := json.Unmarshal([]byte(m), &g.Members); err != nil {
			return page, fmt.Errorf("accounts: members of %s: %w", g.Name, err)
		}
		page.Groups = append(page.Groups, g)
	}
	return page, rows.Err()
}

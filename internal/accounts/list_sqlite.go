package accounts

import (
	"context"
	"encoding/json"
	"fmt"
)

// List returns accounts in (domain, username, external_id) order after the
// filter's key, at most Limit (default 1000).
func (s *Store) List(ctx context.Context, f ListFilter) ([]Account, error) {
	limit := f.Limit
	if limit <= 0 || limit > 5000 {
		limit = 1000
	}
	q := `SELECT domain, external_id, username, upn, email, display_name, given_name, surname, dn, groups, active,
		inactive_reason, deactivated_by, created_at, updated_at, deactivated_at, last_run_id
		FROM accounts WHERE (domain, username, external_id) > (?, ?, ?)`
	args := []any{f.AfterDomain, f.AfterUsername, f.AfterID}
	if f.Domain != "" {
		q += ` AND domain = ?`
		args = append(args, f.Domain)
	}
	q += ` ORDER BY domain, username, external_id LIMIT ?`
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("accounts: list: %w", err)
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		var a Account
		var groups string
		if err := rows.Scan(&a.Domain, &a.ExternalID, &a.Username, &a.UPN, &a.Email, &a.DisplayName, &a.GivenName, &a.Surname,
			&a.DN, &groups, &a.Active, &a.InactiveReason, &a.DeactivatedBy, &a.CreatedAt, &a.UpdatedAt, &a.DeactivatedAt, &a.LastRunID); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(groups), &a.Groups); err != nil {
			return nil, fmt.Errorf("accounts: groups of %s/%s: %w", a.Domain, a.ExternalID, err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

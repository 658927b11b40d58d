package accounts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/segmentio/encoding/json"
)

// accountFields are an account's own columns; accountColumns adds its
// groups' names (JSON), which scanAccount reads.
const accountFields = `a.domain, a.external_id, a.username, a.local_name, a.upn, a.email, a.display_name, a.given_name, a.surname, a.dn,
	a.active, a.inactive_reason, a.deactivated_by, a.local_note, a.directory_active, a.created_at, a.updated_at, a.deactivated_at, a.last_run_id`

const accountColumns = accountFields + `,
	(SELECT coalesce(json_group_array(name), '[]') FROM (SELECT g.name FROM memberships m JOIN groups g ON g.domain=m.domain AND g.external_id=m.group_id
		WHERE m.account=a.id ORDER BY g.name))`

func scanAccount(rows interface{ Scan(...any) error }) (Account, error) {
	var a Account
	var groups string
	if err := rows.Scan(fieldsOf(&a, &groups)...); err != nil {
		return a, err
	}
	if err := json.Unmarshal([]byte(groups), &a.Groups); err != nil {
		return a, fmt.Errorf("accounts: groups of %s/%s: %w", a.Domain, a.ExternalID, err)
	}
	return a, nil
}

// fieldsOf is where Scan puts accountFields of a, then extra.
func fieldsOf(a *Account, extra ...any) []any {
	return append([]any{&a.Domain, &a.ExternalID, &a.Username, &a.LocalName, &a.UPN, &a.Email, &a.DisplayName, &a.GivenName, &a.Surname,
		&a.DN, &a.Active, &a.InactiveReason, &a.DeactivatedBy, &a.LocalNote, &a.DirectoryActive, &a.CreatedAt, &a.UpdatedAt, &a.DeactivatedAt,
		&a.LastRunID}, extra...)
}

// List returns accounts in (domain, username, external_id) order after the
// filter's key, at most Limit (default 1000).
func (s *Store) List(ctx context.Context, f ListFilter) ([]Account, error) {
	limit := f.Limit
	if limit <= 0 || limit > 5000 {
		limit = 1000
	}
	q := `SELECT ` + accountColumns + ` FROM accounts a WHERE (a.domain, a.username, a.external_id) > (?, ?, ?)`
	args := []any{f.AfterDomain, f.AfterUsername, f.AfterID}
	if f.Domain != "" {
		q += ` AND a.domain = ?`
		args = append(args, f.Domain)
	}
	if f.DriftOnly {
		q += ` AND a.deactivated_by='local' AND a.directory_active=1`
	}
	q += ` ORDER BY a.domain, a.username, a.external_id LIMIT ?`
	args = append(args, limit)
	rows, err := s.db.Reader.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("accounts: list: %w", err)
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Errors of the local-hold operations, for callers that answer with a
// status (the API: 404, 409, 422).
var (
	ErrNoAccount = errors.New("no account")
	ErrNoHold    = errors.New("no local hold")
	ErrNoReason  = errors.New("say why: a reason is required")
)

// Find returns the account a reference names: its local name, or
// "domain/external_id".
func (s *Store) Find(ctx context.Context, ref string) (Account, error) {
	row := s.db.Reader.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts a WHERE a.local_name=?1 OR a.domain || '/' || a.external_id=?1`, ref)
	a, err := scanAccount(row)
	if err == sql.ErrNoRows {
		return a, fmt.Errorf("%w %q (use its local name, e.g. alice@corp, or domain/external_id)", ErrNoAccount, ref)
	}
	return a, err
}

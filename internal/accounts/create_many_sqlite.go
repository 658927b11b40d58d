package accounts

import (
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/adsync/adsync/events"
)

// createChunk is how many accounts one statement of createMany inserts.
const createChunk = 64

// createMany applies a batch's plain creations — an account new to the
// store, without groups, whose local name nothing else holds or takes in
// the batch, with no earlier failure — a chunk of accounts per statement
// instead of two statements each, and returns the batch's other changes,
// in order, for apply. Each account ends as apply would have left it:
// such a creation meets nothing else of the batch, so applying it first
// changes only where its row comes in the report
// (TestPlainCreationsInBulkEqualOneByOne). A first sync is all plain
// creations.
func (a *applier) createMany(domain string, changes []events.AccountChange, res *Applied) ([]events.AccountChange, error) {
	plain := a.plainCreations(domain, changes)
	n := 0
	for _, p := range plain {
		if p {
			n++
		}
	}
	if n < 2 || a.report.rows+n > a.report.max {
		return changes, nil // a bounded report counts each row left out: apply does
	}
	taken, err := a.namesTaken(domain, changes, plain)
	if err != nil {
		return nil, err
	}
	var rows []events.AccountChange
	rest := make([]events.AccountChange, 0, len(changes)-n)
	for i, ch := range changes {
		if plain[i] && !taken[a.s.opt.LocalName.Name(domain, ch.Entry.Username)] {
			rows = append(rows, ch)
			delete(a.known, ch.ExternalID)
		} else {
			rest = append(rest, ch)
		}
	}
	for start := 0; start < len(rows); start += createChunk {
		if err := a.createChunk(domain, rows[start:min(start+createChunk, len(rows))]); err != nil {
			return nil, err
		}
	}
	a.report.rows += len(rows)
	res.Created += len(rows)
	return rest, nil
}

// plainCreations marks the changes createMany may apply, before the store
// is asked about local names.
func (a *applier) plainCreations(domain string, changes []events.AccountChange) []bool {
	ids := make(map[string]int, len(changes))
	names := make(map[string]int, len(changes))
	for _, ch := range changes {
		ids[ch.ExternalID]++
		if ch.Entry != nil {
			names[a.s.opt.LocalName.Name(domain, ch.Entry.Username)]++
		}
	}
	plain := make([]bool, len(changes))
	for i, ch := range changes {
		e := ch.Entry
		if e == nil || ch.Op != events.OpCreate || len(ch.Fields) > 0 || len(e.GroupRefs) > 0 || ids[ch.ExternalID] > 1 ||
			names[a.s.opt.LocalName.Name(domain, e.Username)] > 1 || a.failing[domain+"/"+ch.ExternalID] {
			continue
		}
		if c, ok := a.known[ch.ExternalID]; !ok || c.exists {
			continue
		}
		plain[i] = true
	}
	return plain
}

// namesTaken returns which local names of the plain creations an account
// of the store holds already: those go through apply, which reports the
// conflict.
func (a *applier) namesTaken(domain string, changes []events.AccountChange, plain []bool) (map[string]bool, error) {
	var q strings.Builder
	q.WriteString(`SELECT local_name FROM accounts WHERE local_name IN (`)
	var args []any
	for i, ch := range changes {
		if !plain[i] {
			continue
		}
		if len(args) > 0 {
			q.WriteByte(',')
		}
		q.WriteByte('?')
		args = append(args, a.s.opt.LocalName.Name(domain, ch.Entry.Username))
	}
	q.WriteByte(')')
	rows, err := a.tx.QueryContext(a.ctx, q.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("accounts: look up local names: %w", err)
	}
	defer rows.Close()
	taken := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		taken[n] = true
	}
	return taken, rows.Err()
}

// createChunk inserts up to createChunk new accounts and their report
// rows, one statement each. The columns are those of apply's upsert for an
// account that does not exist: active unless disabled in the directory
// (then deactivated by the sync, for the directory's reason).
func (a *applier) createChunk(domain string, chunk []events.AccountChange) error {
	accounts, report, err := a.createStatements(len(chunk))
	if err != nil {
		return err
	}
	args := make([]any, 0, 3+createArgs*len(chunk))
	args = append(args, domain, a.now, a.runID)
	rargs := make([]any, 0, 7+reportArgs*len(chunk))
	rargs = append(rargs, a.runID, domain, events.OpCreate, "[]", ResultApplied, "", a.report.now)
	for _, ch := range chunk {
		e := ch.Entry
		name := a.s.opt.LocalName.Name(domain, e.Username)
		args = append(args, ch.ExternalID, e.Username, name, e.UPN, e.Email, e.DisplayName, e.GivenName, e.Surname, e.DN,
			e.Disabled, e.DisabledReason, ch.Version)
		rargs = append(rargs, ch.ExternalID, name, ch.Reason)
	}
	r, err := accounts.ExecContext(a.ctx, args...)
	if err != nil {
		return fmt.Errorf("accounts: create %d accounts of %s: %w", len(chunk), domain, err)
	}
	if n, err := r.RowsAffected(); err != nil || int(n) != len(chunk) {
		return fmt.Errorf("accounts: create %d accounts of %s: %d created (%v)", len(chunk), domain, n, err)
	}
	if _, err := report.ExecContext(a.ctx, rargs...); err != nil {
		return fmt.Errorf("accounts: report %d accounts of %s: %w", len(chunk), domain, err)
	}
	return nil
}

// Arguments per account of createChunk's statements.
const (
	createArgs = 12
	reportArgs = 3
)

// createStatements returns createChunk's two statements for n accounts,
// prepared once per size in the applier's transaction.
func (a *applier) createStatements(n int) (*sql.Stmt, *sql.Stmt, error) {
	if st, ok := a.creates[n]; ok {
		return st[0], st[1], nil
	}
	var q, r strings.Builder
	q.WriteString(`INSERT INTO accounts (domain, external_id, username, local_name, upn, email, display_name, given_name, surname, dn,
		active, inactive_reason, deactivated_by, directory_active, directory_reason, version, created_at, updated_at, deactivated_at, last_run_id) VALUES `)
	r.WriteString(`INSERT INTO run_changes (run_id, domain, external_id, local_name, op, fields, reason, result, error, at) VALUES `)
	p := func(i int) string { return "?" + strconv.Itoa(i) }
	for i := range n {
		if i > 0 {
			q.WriteByte(',')
			r.WriteByte(',')
		}
		b := 4 + createArgs*i // ?1 domain, ?2 now, ?3 run
		id, user, name, upn, mail, disp, given, sur, dn, dis, why, ver := p(b), p(b+1), p(b+2), p(b+3), p(b+4), p(b+5), p(b+6), p(b+7), p(b+8), p(b+9), p(b+10), p(b+11)
		fmt.Fprintf(&q, "(?1,%s,%s,%s,%s,%s,%s,%s,%s,%s, NOT %s,%s, CASE WHEN %s THEN 'sync' ELSE '' END, NOT %s,%s,%s,?2,?2, CASE WHEN %s THEN ?2 ELSE '' END,?3)",
			id, user, name, upn, mail, disp, given, sur, dn, dis, why, dis, dis, why, ver, dis)
		c := 8 + reportArgs*i // ?1 run, ?2 domain, ?3 op, ?4 fields, ?5 result, ?6 error, ?7 at
		fmt.Fprintf(&r, "(?1,?2,%s,%s,?3,?4,%s,?5,?6,?7)", p(c), p(c+1), p(c+2))
	}
	accounts, err := a.tx.PrepareContext(a.ctx, q.String())
	if err != nil {
		return nil, nil, err
	}
	report, err := a.tx.PrepareContext(a.ctx, r.String())
	if err != nil {
		accounts.Close()
		return nil, nil, err
	}
	if a.creates == nil {
		a.creates = map[int][2]*sql.Stmt{}
	}
	a.creates[n] = [2]*sql.Stmt{accounts, report}
	return accounts, report, nil
}

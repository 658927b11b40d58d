package accounts

import (
	"fmt"
	"slices"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/infra/sqlite"
)

// createChunk is how many accounts one statement of createMany inserts.
const createChunk = sqlite.RowsPerStatement

// createMany applies a batch's plain creations — a change creating an
// account whose id and local name no other change of the batch has, with
// no earlier failure — a chunk of accounts (and of their groups and
// memberships) per statement instead of two statements each, and returns
// the batch's other changes, in order, for apply. A chunk is inserted only
// if every account in it is new and takes a local name nobody holds: the
// statement skips a row that meets an existing id or name (ON CONFLICT DO
// NOTHING), and then the chunk is taken back (a savepoint) and goes through
// apply, which reports the conflict. Until a store's first sync has built
// those unique indexes, uniqueKeys.admit stands in for them, and builds
// them when a chunk might meet an account. So the store is asked nothing
// before (a first sync meets no conflict), and each account ends as apply would
// have left it: such a creation meets nothing else of the batch, so
// applying it first changes only where its row comes in the report
// (TestPlainCreationsInBulkEqualOneByOne). A first sync is all plain
// creations.
func (a *applier) createMany(domain string, changes []events.AccountChange, res *Applied) ([]events.AccountChange, error) {
	// The local name of each change with an entry ("" without).
	names := make([]string, len(changes))
	for i, ch := range changes {
		if ch.Entry != nil {
			names[i] = a.s.opt.LocalName.Name(domain, ch.Entry.Username)
		}
	}
	plain := a.plainCreations(domain, changes, names)
	var candidates []int
	for i, p := range plain {
		if p {
			candidates = append(candidates, i)
		}
	}
	// One creation alone goes through apply, unless the unique indexes
	// are not built yet (apply would build them).
	if len(candidates) == 0 || len(candidates) == 1 && !a.s.keys.unindexed() {
		return changes, nil
	}
	ids, newNames := make([]string, len(candidates)), make([]string, len(candidates))
	for j, i := range candidates {
		ids[j], newNames[j] = changes[i].ExternalID, names[i]
	}
	if err := a.s.keys.admit(a.ctx, a.tx, domain, ids, newNames); err != nil {
		return nil, err
	}
	created := 0
	for start := 0; start < len(candidates); {
		// The report is bounded: a chunk is listed whole or only counted
		// whole (as apply does), so one that would fill it ends there.
		end := min(start+createChunk, len(candidates))
		if room := a.report.max - a.report.rows; room > 0 {
			end = min(end, start+room)
		}
		chunk := candidates[start:end]
		start = end
		rows, rowNames := make([]events.AccountChange, len(chunk)), make([]string, len(chunk))
		for j, i := range chunk {
			rows[j], rowNames[j] = changes[i], names[i]
		}
		ok, err := a.createChunk(domain, rows, rowNames, res)
		if err != nil {
			return nil, err
		}
		if !ok {
			for _, i := range chunk {
				plain[i] = false // to apply, in its place
			}
			continue
		}
		created += len(chunk)
	}
	rest := make([]events.AccountChange, 0, len(changes)-created)
	for i, ch := range changes {
		if !plain[i] {
			rest = append(rest, ch)
		}
	}
	res.Created += created
	return rest, nil
}

// plainCreations marks the changes createMany may apply. It asks the store
// nothing: a plain creation that meets an account of the store is found
// when its chunk is inserted.
func (a *applier) plainCreations(domain string, changes []events.AccountChange, names []string) []bool {
	ids := make(map[string]int, len(changes))
	uses := make(map[string]int, len(changes))
	for i, ch := range changes {
		ids[ch.ExternalID]++
		if ch.Entry != nil {
			uses[names[i]]++
		}
	}
	plain := make([]bool, len(changes))
	for i, ch := range changes {
		e := ch.Entry
		if e == nil || ch.Op != events.OpCreate || len(ch.Fields) > 0 || !distinctGroups(e.GroupRefs) || ids[ch.ExternalID] > 1 ||
			uses[names[i]] > 1 || a.failing[domain+"/"+ch.ExternalID] {
			continue
		}
		plain[i] = true
	}
	return plain
}

// createChunk inserts up to createChunk new accounts, their report rows,
// groups and memberships. The columns are those of apply's upsert for an
// account that does not exist: active unless disabled in the directory
// (then deactivated by the sync, for the directory's reason); a new
// account joins each of its groups, which are created or renamed as
// setGroups does.
func (a *applier) createChunk(domain string, chunk []events.AccountChange, names []string, res *Applied) (ok bool, err error) {
	accounts := make([][]any, 0, len(chunk))
	reports := make([][]any, 0, len(chunk))
	var members [][]any
	groups := map[string]events.GroupRef{}
	var order []string
	for i, ch := range chunk {
		e, name := ch.Entry, names[i]
		accounts = append(accounts, []any{ch.ExternalID, e.Username, name, e.UPN, e.Email, e.DisplayName, e.GivenName, e.Surname, e.DN,
			e.Disabled, e.DisabledReason, ch.Version})
		reports = append(reports, []any{ch.ExternalID, name, ch.Reason})
		for _, g := range e.GroupRefs {
			if _, ok := groups[g.ID]; !ok {
				order = append(order, g.ID)
			}
			groups[g.ID] = g // the last one, as one upsert after another
			members = append(members, []any{ch.ExternalID, g.ID})
		}
	}
	// Memberships name the new accounts by their integer ids, which come
	// after the store's largest.
	var before int64
	if len(members) > 0 {
		if err := a.tx.QueryRowContext(a.ctx, `SELECT coalesce(max(id), 0) FROM accounts`).Scan(&before); err != nil {
			return false, err
		}
	}
	if _, err := a.tx.ExecContext(a.ctx, `SAVEPOINT create_chunk`); err != nil {
		return false, err
	}
	n, err := a.inserts.Insert(&insertAccounts, []any{domain, a.now, a.runID}, accounts)
	if err != nil {
		return false, fmt.Errorf("accounts: create %d accounts of %s: %w", len(chunk), domain, err)
	}
	if n != len(chunk) {
		// An id or a local name the store holds: take the chunk back.
		if _, err := a.tx.ExecContext(a.ctx, `ROLLBACK TO create_chunk`); err != nil {
			return false, err
		}
		_, err := a.tx.ExecContext(a.ctx, `RELEASE create_chunk`)
		return false, err
	}
	if _, err := a.tx.ExecContext(a.ctx, `RELEASE create_chunk`); err != nil {
		return false, err
	}
	if a.report.rows >= a.report.max {
		if err := a.report.cutMany(domain, len(chunk)); err != nil {
			return false, err
		}
	} else {
		if _, err := a.inserts.Insert(&insertReports, []any{a.runID, domain, events.OpCreate, "[]", ResultApplied, "", a.report.now}, reports); err != nil {
			return false, fmt.Errorf("accounts: report %d accounts of %s: %w", len(chunk), domain, err)
		}
		a.report.rows += len(chunk)
	}
	if err := a.feedCreated(domain, chunk, names, groups); err != nil {
		return false, err
	}
	if len(members) == 0 {
		return true, nil
	}
	rows := make([][]any, 0, len(order))
	for _, id := range order {
		g := groups[id]
		rows = append(rows, []any{g.ID, g.Name, g.DN})
	}
	if _, err := a.inserts.Insert(&upsertGroups, []any{domain, a.now}, rows); err != nil {
		return false, fmt.Errorf("accounts: record the groups of %d accounts of %s: %w", len(chunk), domain, err)
	}
	if err := a.newAccountIDs(domain, before, len(chunk), members); err != nil {
		return false, err
	}
	if _, err := a.inserts.Insert(&insertMembers, []any{domain}, members); err != nil {
		return false, fmt.Errorf("accounts: record the memberships of %d accounts of %s: %w", len(chunk), domain, err)
	}
	res.Joined += len(members)
	return true, nil
}

// feedCreated writes the feed's events of a chunk createChunk inserted:
// each account as its row and groups now are, without reading them back.
func (a *applier) feedCreated(domain string, chunk []events.AccountChange, names []string, groups map[string]events.GroupRef) error {
	rows := make([][]any, 0, len(chunk))
	at := a.s.feedTime()
	for i, ch := range chunk {
		e := ch.Entry
		acc := events.Account{Domain: domain, ExternalID: ch.ExternalID, Username: e.Username, LocalName: names[i], UPN: e.UPN, Email: e.Email,
			DisplayName: e.DisplayName, GivenName: e.GivenName, Surname: e.Surname, DN: e.DN, Groups: make([]string, 0, len(e.GroupRefs)),
			Active: !e.Disabled, InactiveReason: e.DisabledReason, DirectoryActive: !e.Disabled, CreatedAt: a.now, UpdatedAt: a.now, LastRunID: a.runID}
		if e.Disabled {
			acc.DeactivatedBy, acc.DeactivatedAt = BySync, a.now
		}
		for _, g := range e.GroupRefs {
			acc.Groups = append(acc.Groups, groups[g.ID].Name)
		}
		slices.Sort(acc.Groups)
		ev := events.AccountChanged{Domain: domain, Change: events.ChangeCreated, Reason: e.DisabledReason, RunID: a.runID, Actor: BySync,
			Account: acc, At: at}
		if len(acc.Groups) > 0 {
			ev.Joined = acc.Groups
		}
		raw, err := encodeFeed(&ev)
		if err != nil {
			return err
		}
		rows = append(rows, []any{domain, raw})
	}
	if _, err := a.inserts.Insert(&insertFeed, nil, rows); err != nil {
		return fmt.Errorf("accounts: feed %d accounts of %s: %w", len(chunk), domain, err)
	}
	// The rows took consecutive numbers (nothing else writes the outbox
	// in between); the last is the connection's last insert.
	var last int64
	if err := a.tx.QueryRowContext(a.ctx, `SELECT last_insert_rowid()`).Scan(&last); err != nil {
		return fmt.Errorf("accounts: the feed's sequence numbers: %w", err)
	}
	for i, r := range rows {
		a.s.recent.add(last-int64(len(rows)-1-i), domain, r[1].([]byte))
	}
	return nil
}

// newAccountIDs replaces the directory id that begins each of members by
// the integer id of its account, one of the n accounts just inserted
// after id before (read from the end of the table, not by an index a
// first sync may not have yet).
func (a *applier) newAccountIDs(domain string, before int64, n int, members [][]any) error {
	rows, err := a.tx.QueryContext(a.ctx, `SELECT id, external_id FROM accounts WHERE id > ?`, before)
	if err != nil {
		return err
	}
	defer rows.Close()
	ids := make(map[string]int64, n)
	for rows.Next() {
		var id int64
		var ext string
		if err := rows.Scan(&id, &ext); err != nil {
			return err
		}
		ids[ext] = id
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(ids) != n {
		return fmt.Errorf("accounts: %d accounts of %s inserted, %d found after id %d", n, domain, len(ids), before)
	}
	for _, m := range members {
		m[0] = ids[m[0].(string)]
	}
	return nil
}

// distinctGroups reports whether no group is listed twice.
func distinctGroups(refs []events.GroupRef) bool {
	for i := range refs {
		for j := i + 1; j < len(refs); j++ {
			if refs[i].ID == refs[j].ID {
				return false
			}
		}
	}
	return true
}

var (
	insertAccounts = sqlite.RowsInsert{Shared: 3, Per: 12, // ?1 domain, ?2 now, ?3 run
		Head: `INSERT INTO accounts (domain, external_id, username, local_name, upn, email, display_name, given_name, surname, dn,
			active, inactive_reason, deactivated_by, directory_active, directory_reason, version, created_at, updated_at, deactivated_at, last_run_id) VALUES `,
		Row:  `(?1,$0,$1,$2,$3,$4,$5,$6,$7,$8, NOT $9,$10, CASE WHEN $9 THEN 'sync' ELSE '' END, NOT $9,$10,$11,?2,?2, CASE WHEN $9 THEN ?2 ELSE '' END,?3)`,
		Tail: ` ON CONFLICT DO NOTHING`} // an existing id or local name: createChunk takes the chunk back
	insertReports = sqlite.RowsInsert{Shared: 7, Per: 3, // ?1 run, ?2 domain, ?3 op, ?4 fields, ?5 result, ?6 error, ?7 at
		Head: `INSERT INTO run_changes (run_id, domain, external_id, local_name, op, fields, reason, result, error, at) VALUES `,
		Row:  `(?1,?2,$0,$1,?3,?4,$2,?5,?6,?7)`}
	upsertGroups = sqlite.RowsInsert{Shared: 2, Per: 3, // ?1 domain, ?2 now
		Head: `INSERT INTO groups (domain, external_id, name, dn, updated_at) VALUES `,
		Row:  `(?1,$0,$1,$2,?2)`,
		Tail: ` ON CONFLICT (domain, external_id) DO UPDATE SET name=excluded.name, dn=excluded.dn, updated_at=excluded.updated_at
			WHERE groups.name<>excluded.name OR groups.dn<>excluded.dn`}
	// New accounts have the largest ids: the memberships are appended.
	insertMembers = sqlite.RowsInsert{Shared: 1, Per: 2, // ?1 domain
		Head: `INSERT INTO memberships (account, domain, group_id) VALUES `,
		Row:  `($0,?1,$1)`}
)

package accounts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/mattn/go-sqlite3"
	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/infra/sqlite"
)

// Results of one account change, in the per-account report.
const (
	ResultApplied      = "applied"
	ResultPlanned      = "planned"
	ResultHeld         = "held"
	ResultStale        = "stale"
	ResultFailed       = "failed"
	ResultKeptInactive = "kept-inactive"
	ResultIgnored      = "ignored"
)

// Applied is what applying a domain's plan did.
type Applied struct {
	events.Counts
	Stale  int
	Failed int
	// KeptInactive counts accounts the directory enables that stay
	// inactive because an administrator deactivated them locally.
	KeptInactive int
}

// applier applies account changes inside one transaction.
type applier struct {
	s      *Store
	ctx    context.Context
	tx     *sql.Tx
	runID  string
	now    string
	report *reporter
	get    *sql.Stmt
	upsert *sql.Stmt
	gone   *sql.Stmt
	feed   *feeder
	// failing holds the accounts with an unresolved failure (by domain/id):
	// only those have a failure record to forget.
	failing map[string]bool
	// known caches the current state of a batch's accounts (preload).
	known map[string]current
	// inserts are createMany's statements of many rows.
	inserts *sqlite.Inserts
}

func (s *Store) newApplier(ctx context.Context, tx *sql.Tx, runID string) (*applier, error) {
	rep, err := s.newReporter(ctx, tx, runID)
	if err != nil {
		return nil, err
	}
	a := &applier{s: s, ctx: ctx, tx: tx, runID: runID, now: s.stamp(), report: rep, failing: map[string]bool{}, inserts: s.db.NewInserts(ctx, tx),
		feed: &feeder{s: s, tx: tx}}
	rows, err := tx.QueryContext(ctx, `SELECT domain, external_id FROM failed_changes`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var d, id string
		if err := rows.Scan(&d, &id); err != nil {
			rows.Close()
			return nil, err
		}
		a.failing[d+"/"+id] = true
	}
	rows.Close()
	return a, nil
}

// statements prepares apply's statements, once. They need the unique
// indexes of accounts, which a first sync goes without until a change
// other than a new account comes (uniqueKeys): it builds them first.
func (a *applier) statements() error {
	if a.upsert != nil {
		return nil
	}
	if err := a.s.keys.build(a.ctx, a.tx); err != nil {
		return err
	}
	var err error
	if a.get, err = a.s.db.Stmt(a.ctx, a.tx, `SELECT version, active, deactivated_by, local_name FROM accounts WHERE domain=? AND external_id=?`); err != nil {
		return err
	}
	if a.upsert, err = a.s.db.Stmt(a.ctx, a.tx, `INSERT INTO accounts (domain, external_id, username, local_name, upn, email, display_name, given_name, surname, dn,
			active, inactive_reason, deactivated_by, directory_active, directory_reason, version, created_at, updated_at, deactivated_at, last_run_id)
		VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?17, CASE WHEN ?11 THEN '' ELSE ?17 END, ?18)
		ON CONFLICT (domain, external_id) DO UPDATE SET username=excluded.username, local_name=excluded.local_name, upn=excluded.upn,
			email=excluded.email, display_name=excluded.display_name, given_name=excluded.given_name, surname=excluded.surname, dn=excluded.dn,
			active=excluded.active, inactive_reason=excluded.inactive_reason, deactivated_by=excluded.deactivated_by,
			directory_active=excluded.directory_active, directory_reason=excluded.directory_reason, version=excluded.version,
			updated_at=excluded.updated_at,
			deactivated_at=CASE WHEN excluded.active=0 AND accounts.active=1 THEN excluded.updated_at
			                    WHEN excluded.active=1 THEN '' ELSE accounts.deactivated_at END,
			last_run_id=excluded.last_run_id`); err != nil {
		return err
	}
	if a.gone, err = a.s.db.Stmt(a.ctx, a.tx, `UPDATE accounts SET directory_active=0, directory_reason=?1, version=?2, updated_at=?3, last_run_id=?4,
			inactive_reason=CASE WHEN deactivated_by='local' THEN inactive_reason ELSE ?1 END,
			deactivated_by=CASE WHEN deactivated_by='local' THEN 'local' ELSE 'sync' END,
			deactivated_at=CASE WHEN active=1 THEN ?3 ELSE deactivated_at END, active=0
		WHERE domain=?5 AND external_id=?6`); err != nil {
		return err
	}
	return nil
}

func (a *applier) close() {
	for _, st := range []*sql.Stmt{a.get, a.upsert, a.gone} {
		if st != nil {
			st.Close()
		}
	}
	a.inserts.Close()
	a.feed.close()
}

type current struct {
	exists    bool
	version   int64
	active    bool
	by        string
	localName string
}

// preload reads the current state of a batch's accounts in a few queries.
func (a *applier) preload(domain string, changes []events.AccountChange) error {
	a.known = make(map[string]current, len(changes))
	if len(changes) == 0 {
		return nil
	}
	if err := a.statements(); err != nil {
		return err
	}
	const chunk = 500
	for start := 0; start < len(changes); start += chunk {
		part := changes[start:min(start+chunk, len(changes))]
		q := strings.Builder{}
		q.WriteString(`SELECT external_id, version, active, deactivated_by, local_name FROM accounts WHERE domain=? AND external_id IN (`)
		args := []any{domain}
		for i, ch := range part {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteByte('?')
			args = append(args, ch.ExternalID)
		}
		q.WriteByte(')')
		rows, err := a.tx.QueryContext(a.ctx, q.String(), args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			c := current{exists: true}
			if err := rows.Scan(&id, &c.version, &c.active, &c.by, &c.localName); err != nil {
				rows.Close()
				return err
			}
			a.known[id] = c
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	for _, ch := range changes {
		if _, ok := a.known[ch.ExternalID]; !ok {
			a.known[ch.ExternalID] = current{}
		}
	}
	return nil
}

func (a *applier) current(domain, id string) (current, error) {
	if c, ok := a.known[id]; ok {
		delete(a.known, id) // applied once; a later change reads again
		return c, nil
	}
	var c current
	err := a.get.QueryRowContext(a.ctx, domain, id).Scan(&c.version, &c.active, &c.by, &c.localName)
	if errors.Is(err, sql.ErrNoRows) {
		return c, nil
	}
	c.exists = err == nil
	return c, err
}

// apply applies one change and reports it; a change that cannot be applied
// is recorded for retry, not lost.
func (a *applier) apply(domain string, ch events.AccountChange, res *Applied) error {
	if err := a.statements(); err != nil {
		return err
	}
	cur, err := a.current(domain, ch.ExternalID)
	if err != nil {
		return err
	}
	if cur.exists && cur.version > ch.Version {
		res.Stale++
		return a.report.add(domain, ch, cur.localName, ResultStale, "a newer directory state was applied already")
	}
	if ch.Entry == nil {
		// Gone from the directory: deactivate, never delete.
		if !cur.exists {
			res.Stale++
			return a.report.add(domain, ch, "", ResultStale, "no such account")
		}
		if _, err := a.gone.ExecContext(a.ctx, ch.Reason, ch.Version, a.now, a.runID, domain, ch.ExternalID); err != nil {
			return err
		}
		change, fields := events.ChangeUpdated, []string{"inactive_reason"}
		if cur.active {
			res.Deactivated++
			change, fields = events.ChangeDeactivated, []string{"active", "inactive_reason"}
		}
		ev := events.AccountChanged{Change: change, Fields: fields, Reason: ch.Reason, RunID: a.runID, Actor: BySync}
		if err := a.feed.write(a.ctx, ev, domain, ch.ExternalID); err != nil {
			return err
		}
		return a.settled(domain, ch, cur.localName, ResultApplied, "")
	}
	e := ch.Entry
	dirActive := !e.Disabled
	active, reason, by := dirActive, e.DisabledReason, ""
	if !dirActive {
		by = BySync
	}
	result := ResultApplied
	if cur.exists && cur.by == ByLocal {
		// An administrator deactivated this account: the sync updates it
		// but never re-enables it.
		active, reason, by = false, events.ReasonLocal, ByLocal
		if dirActive {
			res.KeptInactive++
			result = ResultKeptInactive
		}
	}
	name := a.s.opt.LocalName.Name(domain, e.Username)
	if cur.exists && ch.Op == events.OpCreate {
		// diff took back its record of a run whose accounts were created
		// anyway (a first sync applied as it read, then failed): the
		// account is already as the directory has it.
		same, err := a.same(domain, ch.ExternalID, e, name, active, reason, by, dirActive)
		if err != nil {
			return err
		}
		if same {
			res.Unchanged++
			return nil
		}
	}
	_, err = a.upsert.ExecContext(a.ctx, domain, ch.ExternalID, e.Username, name, e.UPN, e.Email, e.DisplayName, e.GivenName, e.Surname, e.DN,
		active, reason, by, dirActive, e.DisabledReason, ch.Version, a.now, a.runID)
	var se sqlite3.Error
	if errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique {
		return a.failed(domain, ch, name, a.conflict(name, ch.ExternalID))
	}
	if err != nil {
		return err
	}
	// Memberships change only with the "groups" field; a new account
	// has none yet.
	var joined, left []string
	if !cur.exists && len(e.GroupRefs) > 0 || cur.exists && slices.Contains(ch.Fields, "groups") {
		if joined, left, err = a.setGroups(domain, ch.ExternalID, e.GroupRefs, cur.exists); err != nil {
			return err
		}
	}
	res.Joined += len(joined)
	res.Left += len(left)
	ev := events.AccountChanged{Fields: ch.Fields, Joined: joined, Left: left, RunID: a.runID, Actor: BySync}
	switch {
	case !cur.exists:
		res.Created++
		ev.Change = events.ChangeCreated
	case cur.active && !active:
		res.Deactivated++
		ev.Change = events.ChangeDeactivated
	case !cur.active && active:
		res.Reactivated++
		ev.Change = events.ChangeReactivated
	default:
		res.Updated++
		ev.Change = events.ChangeUpdated
	}
	if ev.Reason = reason; active {
		ev.Reason = ch.Reason // why it is active again (directory-enabled, -returned)
	}
	if err := a.feed.write(a.ctx, ev, domain, ch.ExternalID); err != nil {
		return err
	}
	return a.settled(domain, ch, name, result, "")
}

// conflict explains a local-name conflict.
func (a *applier) conflict(name, id string) string {
	var other string
	var active bool
	_ = a.tx.QueryRowContext(a.ctx, `SELECT external_id, active FROM accounts WHERE local_name=?`, name).Scan(&other, &active)
	state := "inactive"
	if active {
		state = "active"
	}
	return fmt.Sprintf("local name %s belongs to another account (directory id %s, %s); not taking over its identity — rename or remove one of the two in the directory", name, other, state)
}

// settled reports a change and forgets an older failure of the account.
func (a *applier) settled(domain string, ch events.AccountChange, name, result, note string) error {
	if a.failing[domain+"/"+ch.ExternalID] {
		if _, err := a.tx.ExecContext(a.ctx, `DELETE FROM failed_changes WHERE domain=? AND external_id=?`, domain, ch.ExternalID); err != nil {
			return err
		}
		delete(a.failing, domain+"/"+ch.ExternalID)
	}
	return a.report.add(domain, ch, name, result, note)
}

// failed records a change that could not be applied, to retry it at the
// domain's next run.
func (a *applier) failed(domain string, ch events.AccountChange, name, why string) error {
	raw, _ := json.Marshal(ch)
	if _, err := a.tx.ExecContext(a.ctx, `INSERT INTO failed_changes (domain, external_id, change, error, first_run, last_run) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (domain, external_id) DO UPDATE SET change=excluded.change, error=excluded.error, last_run=excluded.last_run`,
		domain, ch.ExternalID, string(raw), why, a.runID, a.runID); err != nil {
		return err
	}
	a.failing[domain+"/"+ch.ExternalID] = true
	a.report.failed++
	return a.report.add(domain, ch, name, ResultFailed, why)
}

// setGroups records the account's groups and memberships; it returns the
// names of the groups it joined and left.
func (a *applier) setGroups(domain, account string, refs []events.GroupRef, existed bool) (joined, left []string, err error) {
	// The account's integer id, which memberships are keyed by (it has
	// just been written: apply upserts it first).
	var id int64
	if err := a.tx.QueryRowContext(a.ctx, `SELECT id FROM accounts WHERE domain=? AND external_id=?`, domain, account).Scan(&id); err != nil {
		return nil, nil, fmt.Errorf("accounts: id of %s/%s: %w", domain, account, err)
	}
	had := map[string]string{} // id: name
	if existed {
		rows, err := a.tx.QueryContext(a.ctx, `SELECT m.group_id, coalesce(g.name, '') FROM memberships m
			LEFT JOIN groups g ON g.domain=m.domain AND g.external_id=m.group_id WHERE m.account=?`, id)
		if err != nil {
			return nil, nil, err
		}
		for rows.Next() {
			var id, name string
			if err := rows.Scan(&id, &name); err != nil {
				rows.Close()
				return nil, nil, err
			}
			had[id] = name
		}
		rows.Close()
	}
	has := map[string]bool{}
	for _, g := range refs {
		if has[g.ID] {
			continue // listed twice: one membership
		}
		has[g.ID] = true
		if _, err := a.tx.ExecContext(a.ctx, `INSERT INTO groups (domain, external_id, name, dn, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (domain, external_id) DO UPDATE SET name=excluded.name, dn=excluded.dn, updated_at=excluded.updated_at
			WHERE groups.name<>excluded.name OR groups.dn<>excluded.dn`, domain, g.ID, g.Name, g.DN, a.now); err != nil {
			return nil, nil, err
		}
		if _, ok := had[g.ID]; !ok {
			joined = append(joined, g.Name)
			if _, err := a.tx.ExecContext(a.ctx, `INSERT INTO memberships (account, domain, group_id) VALUES (?, ?, ?)`, id, domain, g.ID); err != nil {
				return nil, nil, err
			}
		}
	}
	for gid, name := range had {
		if !has[gid] {
			left = append(left, name)
			if _, err := a.tx.ExecContext(a.ctx, `DELETE FROM memberships WHERE account=? AND group_id=?`, id, gid); err != nil {
				return nil, nil, err
			}
		}
	}
	slices.Sort(joined)
	slices.Sort(left)
	return joined, left, nil
}

// same reports whether an account holds exactly what apply would write for
// entry e: its fields, state, and groups (ids, names, DNs).
func (a *applier) same(domain, id string, e *events.DirectoryEntry, name string, active bool, reason, by string, dirActive bool) (bool, error) {
	refs := map[string]events.GroupRef{}
	ids := make([]string, 0, len(e.GroupRefs))
	for _, g := range e.GroupRefs {
		if _, ok := refs[g.ID]; !ok { // listed twice: the first, as setGroups
			refs[g.ID] = g
			ids = append(ids, g.ID)
		}
	}
	slices.Sort(ids)
	groups := make([]string, len(ids))
	for i, gid := range ids {
		groups[i] = gid + "\t" + refs[gid].Name + "\t" + refs[gid].DN
	}
	var same bool
	err := a.tx.QueryRowContext(a.ctx, `SELECT username=?3 AND local_name=?4 AND upn=?5 AND email=?6 AND display_name=?7 AND given_name=?8
			AND surname=?9 AND dn=?10 AND active=?11 AND inactive_reason=?12 AND deactivated_by=?13 AND directory_active=?14
			AND directory_reason=?15
			AND (SELECT coalesce(group_concat(g.external_id || char(9) || g.name || char(9) || g.dn, char(10) ORDER BY g.external_id), '')
				FROM memberships m JOIN groups g ON g.domain=m.domain AND g.external_id=m.group_id
				WHERE m.account=accounts.id) = ?16
		FROM accounts WHERE domain=?1 AND external_id=?2`,
		domain, id, e.Username, name, e.UPN, e.Email, e.DisplayName, e.GivenName, e.Surname, e.DN,
		active, reason, by, dirActive, e.DisabledReason, strings.Join(groups, "\n")).Scan(&same)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return same, err
}

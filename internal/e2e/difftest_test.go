package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/adsync/adsync/services/account-writer/accounts"
)

// The differential test: random sequences of directory changes, applied to
// a real directory; after each step one adsync syncs it with delta reads
// (mode auto) and another with full reads, into separate account stores.
// Both must hold the same accounts, and those accounts must be what the
// directory says (read independently) and what the test did (group
// memberships, departures). A failure names the seed, the step, the
// operations so far and the account; ADSYNC_DIFFTEST_SEED=N replays one
// seed, ADSYNC_DIFFTEST_STEPS=N runs more steps.

// diffSeed is a seed that once found a difference, with the steps it took;
// each runs in every `make test`, besides one new seed.
type diffSeed struct {
	seed  uint64
	steps int
}

var (
	// A user that left the group the user filter names and joined it
	// again stayed inactive (the scope changed with the group only), and
	// one that joined it (directly, or through a nested group) was not
	// created.
	adRegressionSeeds = []diffSeed{{11991323369400393556, 3}, {979612066475530536, 35}, {4757307679754733991, 6}}
	// The same on OpenLDAP, whose memberof overlay changes no
	// modifyTimestamp of the member.
	ldapRegressionSeeds = []diffSeed{{16643301175581860624, 9}, {13349716187605302816, 2}, {2362479987746218308, 16}}
)

const diffDefaultSteps = 12

func diffSettings(t *testing.T, regression []diffSeed) []diffSeed {
	t.Helper()
	steps := diffDefaultSteps
	if v := os.Getenv("ADSYNC_DIFFTEST_STEPS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("ADSYNC_DIFFTEST_STEPS=%q is not a positive number", v)
		}
		steps = n
	}
	if v := os.Getenv("ADSYNC_DIFFTEST_SEED"); v != "" {
		seed, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("ADSYNC_DIFFTEST_SEED=%q is not a number", v)
		}
		return []diffSeed{{seed, steps}}
	}
	return append(slices.Clone(regression), diffSeed{rand.Uint64(), steps})
}

// diffDir is a directory under test, through the operations the model
// applies to it.
type diffDir interface {
	// addUser adds a user below parent and returns its DN and id.
	addUser(t *testing.T, parent, name string) (dn, id string)
	delete(t *testing.T, u *diffUser)
	// restore brings a deleted user back at its last DN (same id); false:
	// the directory cannot.
	restore(t *testing.T, u *diffUser) bool
	setDisabled(t *testing.T, u *diffUser, disabled bool)
	// setExpired: false when the directory has no expiry.
	setExpired(t *testing.T, u *diffUser, expired bool) bool
	// rename gives the user another login name.
	rename(t *testing.T, u *diffUser, name string)
	// modrdn gives the user another RDN under the same parent.
	modrdn(t *testing.T, u *diffUser, rdnValue string)
	move(t *testing.T, u *diffUser, parent string)
	setAttr(t *testing.T, u *diffUser, attr, value string)
	addMember(t *testing.T, group, memberDN string)
	removeMember(t *testing.T, group, memberDN string)
	// scope reads the users in the sync's scope, as the directory says.
	scope(t *testing.T) map[string]wantAccount
	// attrs are the attributes setAttr may change.
	attrs() []string
	// groupsFollowMoves: a group's member values are rewritten (the group
	// changes) when a member moves or is renamed (OpenLDAP's refint).
	groupsFollowMoves() bool
}

// wantAccount is what an account must hold for a user in scope.
type wantAccount struct {
	Username, Email, GivenName, Surname, DisplayName, UPN, DN string
	Active                                                    bool
	InactiveReason                                            string
}

// diffUser is the model's user.
type diffUser struct {
	// anchor: no operation touches this user, so that the scope is
	// never empty (the deletion guard holds an empty read, in delta and
	// full runs alike).
	anchor  bool
	dn, id  string
	name    string
	exists  bool
	deleted bool // deleted, and may be restored
	// joined: the groups the user is a direct member of.
	joined map[string]bool
	// account side: synced once it was in scope at a run; gone is the
	// reason its account was deactivated for leaving the scope.
	synced bool
	gone   string
}

// diffWorld is the model: the users, the groups, and where things are.
type diffWorld struct {
	dir                diffDir
	rng                *rand.Rand
	tag                string
	base, inner, outer string // the synced OU, an OU inside it, a Leavers OU outside
	app, appNested     string // the groups the user filter names ("" if none)
	teams              []string
	teamNames          []string
	nestedIn           map[int]int // team i is a member of team nestedIn[i]
	users              []*diffUser
	log                []string
	seq                int
	// groupsTouched: a step changed a team group or a group the user
	// filter names (a membership, or a member's DN that the group lists):
	// its members' memberships or the scope need a full read, so the
	// delta job may read in full.
	groupsTouched bool
	// overlap is the delta reads' re-read window (generic LDAP's
	// delta_overlap, plus modifyTimestamp's second): a group change in it
	// is seen again by the next delta read, which then reads in full.
	// Before a run, the test waits for the last one to age past it.
	overlap   time.Duration
	lastTouch time.Time
	// script, when set, names the one operation of each step in turn
	// (the every-operation run); steps then is its length.
	script []string
}

func (w *diffWorld) note(format string, a ...any) {
	w.log = append(w.log, fmt.Sprintf(format, a...))
}

func (w *diffWorld) newName() string {
	w.seq++
	return fmt.Sprintf("d%s%d", w.tag, w.seq)
}

// pick returns a random user that matches ok, or nil.
func (w *diffWorld) pick(ok func(*diffUser) bool) *diffUser {
	var c []*diffUser
	for _, u := range w.users {
		if ok(u) && !u.anchor {
			c = append(c, u)
		}
	}
	if len(c) == 0 {
		return nil
	}
	return c[w.rng.IntN(len(c))]
}

func live(u *diffUser) bool { return u.exists }

func (w *diffWorld) join(t *testing.T, group string, u *diffUser) {
	if !u.joined[group] {
		w.dir.addMember(t, group, u.dn)
		u.joined[group] = true
		w.touchGroups()
	}
}

func (w *diffWorld) leave(t *testing.T, group string, u *diffUser) {
	if u.joined[group] {
		w.dir.removeMember(t, group, u.dn)
		delete(u.joined, group)
		w.touchGroups()
	}
}

// setUp adds the anchor and a few users to start with.
func (w *diffWorld) setUp(t *testing.T) {
	name := w.newName()
	dn, id := w.dir.addUser(t, w.base, name)
	anchor := &diffUser{dn: dn, id: id, name: name, exists: true, anchor: true, joined: map[string]bool{}}
	w.users = append(w.users, anchor)
	w.join(t, w.app, anchor)
	w.note("add anchor %s at %s", name, dn)
	for range 4 {
		w.ops()[0].do(t)
	}
}

// ops are the changes a step picks from. Each returns false when it found
// nothing to change.
// diffOp is one kind of directory change; do returns false when it found
// nothing to change (or the directory cannot: a tombstone in OpenLDAP).
type diffOp struct {
	name string
	do   func(t *testing.T) bool
}

func (w *diffWorld) ops() []diffOp {
	return []diffOp{
		{"add", func(t *testing.T) bool {
			parent := w.base
			if w.rng.IntN(3) == 0 {
				parent = w.inner
			}
			name := w.newName()
			dn, id := w.dir.addUser(t, parent, name)
			u := &diffUser{dn: dn, id: id, name: name, exists: true, joined: map[string]bool{}}
			w.users = append(w.users, u)
			switch r := w.rng.IntN(10); {
			case w.app == "":
			case r < 7:
				w.join(t, w.app, u)
			case r < 8 && w.appNested != "":
				w.join(t, w.appNested, u)
			}
			w.note("add %s at %s (groups %v)", name, dn, keys(u.joined))
			return true
		}},
		{"delete", func(t *testing.T) bool {
			u := w.pick(live)
			if u == nil {
				return false
			}
			w.dir.delete(t, u)
			w.touching(u, true)
			u.exists, u.deleted, u.joined = false, true, map[string]bool{}
			w.note("delete %s", u.name)
			return true
		}},
		{"restore", func(t *testing.T) bool {
			u := w.pick(func(u *diffUser) bool { return u.deleted })
			if u == nil || !w.dir.restore(t, u) {
				return false
			}
			u.exists, u.deleted = true, false
			// A tombstone keeps no group links: the administrator adds
			// the user back to the application's group.
			if w.app != "" {
				w.join(t, w.app, u)
			}
			w.note("restore %s at %s", u.name, u.dn)
			return true
		}},
		{"disable", func(t *testing.T) bool {
			u := w.pick(live)
			if u == nil {
				return false
			}
			on := w.rng.IntN(2) == 0
			w.dir.setDisabled(t, u, on)
			w.note("disabled=%v %s", on, u.name)
			return true
		}},
		{"expire", func(t *testing.T) bool {
			u := w.pick(live)
			if u == nil {
				return false
			}
			on := w.rng.IntN(2) == 0
			if !w.dir.setExpired(t, u, on) {
				return false
			}
			w.note("expired=%v %s", on, u.name)
			return true
		}},
		{"rename", func(t *testing.T) bool {
			u := w.pick(live)
			if u == nil {
				return false
			}
			name := w.newName()
			w.touching(u, false)
			w.dir.rename(t, u, name)
			w.note("rename %s to %s", u.name, name)
			u.name = name
			return true
		}},
		{"modrdn", func(t *testing.T) bool {
			u := w.pick(live)
			if u == nil {
				return false
			}
			old := u.dn
			w.touching(u, false)
			w.dir.modrdn(t, u, "R "+w.newName())
			w.note("modrdn %s to %s", old, u.dn)
			return true
		}},
		{"move", func(t *testing.T) bool {
			u := w.pick(live)
			if u == nil {
				return false
			}
			to := []string{w.base, w.inner, w.outer}[w.rng.IntN(3)]
			if strings.HasSuffix(strings.ToLower(u.dn), ","+strings.ToLower(to)) {
				return false
			}
			w.touching(u, false)
			w.dir.move(t, u, to)
			w.note("move %s to %s", u.name, to)
			return true
		}},
		{"leaver", func(t *testing.T) bool {
			u := w.pick(live)
			if u == nil || strings.HasSuffix(strings.ToLower(u.dn), ","+strings.ToLower(w.outer)) {
				return false
			}
			w.touching(u, false)
			w.dir.setDisabled(t, u, true)
			w.dir.move(t, u, w.outer)
			w.note("leaver %s: disabled and moved to %s", u.name, w.outer)
			return true
		}},
		{"app", func(t *testing.T) bool {
			u := w.pick(live)
			if u == nil || w.app == "" {
				return false
			}
			group := w.app
			if w.appNested != "" && w.rng.IntN(3) == 0 {
				group = w.appNested
			}
			if u.joined[group] {
				w.leave(t, group, u)
				w.note("%s leaves %s", u.name, group)
			} else {
				w.join(t, group, u)
				w.note("%s joins %s", u.name, group)
			}
			return true
		}},
		{"attr", func(t *testing.T) bool {
			u := w.pick(live)
			if u == nil {
				return false
			}
			attrs := w.dir.attrs()
			attr := attrs[w.rng.IntN(len(attrs))]
			value := w.newName()
			if attr == "mail" {
				value += "@example.org"
			}
			w.dir.setAttr(t, u, attr, value)
			w.note("%s of %s = %s", attr, u.name, value)
			return true
		}},
		{"team", func(t *testing.T) bool {
			u := w.pick(live)
			if u == nil {
				return false
			}
			i := w.rng.IntN(len(w.teams))
			if u.joined[w.teams[i]] {
				w.leave(t, w.teams[i], u)
				w.note("%s leaves team %d", u.name, i)
			} else {
				w.join(t, w.teams[i], u)
				w.note("%s joins team %d", u.name, i)
			}
			return true
		}},
		{"nest", func(t *testing.T) bool {
			// Team i+1 in team i, or out of it: chains, never cycles.
			i := w.rng.IntN(len(w.teams) - 1)
			defer w.touchGroups()
			if p, ok := w.nestedIn[i+1]; ok && p == i {
				w.dir.removeMember(t, w.teams[i], w.teams[i+1])
				delete(w.nestedIn, i+1)
				w.note("team %d out of team %d", i+1, i)
			} else {
				w.dir.addMember(t, w.teams[i], w.teams[i+1])
				w.nestedIn[i+1] = i
				w.note("team %d into team %d", i+1, i)
			}
			return true
		}},
	}
}

// touching notes that a change to u touches the groups that list it: a
// deletion always, a move or rename where groups follow their members.
func (w *diffWorld) touching(u *diffUser, deletion bool) {
	if len(u.joined) > 0 && (deletion || w.dir.groupsFollowMoves()) {
		w.touchGroups()
	}
}

func (w *diffWorld) touchGroups() {
	w.groupsTouched = true
	w.lastTouch = time.Now()
}

// scriptOps are operations only a script names (the random steps draw
// from ops alone, so that a seed replays as it was recorded): a move out
// of the synced OU, and back into it.
func (w *diffWorld) scriptOps() []diffOp {
	moveTo := func(name, to string) diffOp {
		return diffOp{name, func(t *testing.T) bool {
			u := w.pick(func(u *diffUser) bool {
				return u.exists && !strings.HasSuffix(strings.ToLower(u.dn), ","+strings.ToLower(to))
			})
			if u == nil {
				return false
			}
			w.touching(u, false)
			w.dir.move(t, u, to)
			w.note("move %s to %s", u.name, to)
			return true
		}}
	}
	return []diffOp{moveTo("move-out", w.outer), moveTo("move-in", w.base)}
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// teamsOf returns the names of the teams u is in, directly or nested.
func (w *diffWorld) teamsOf(u *diffUser) []string {
	in := map[int]bool{}
	for i, g := range w.teams {
		if u.joined[g] {
			for j, seen := i, 0; seen <= len(w.teams); seen++ {
				in[j] = true
				p, ok := w.nestedIn[j]
				if !ok {
					break
				}
				j = p
			}
		}
	}
	var names []string
	for i := range in {
		names = append(names, w.teamNames[i])
	}
	slices.Sort(names)
	return names
}

// comparable drops what differs between two stores by design: the run
// that wrote an account and when.
func comparable(a accounts.Account) accounts.Account {
	a.LastRunID, a.CreatedAt, a.UpdatedAt, a.DeactivatedAt = "", "", "", ""
	a.Groups = slices.Clone(a.Groups)
	slices.Sort(a.Groups)
	if len(a.Groups) == 0 {
		a.Groups = nil
	}
	return a
}

// runDiffTest runs the steps of one seed against two adsyncs.
func runDiffTest(t *testing.T, w *diffWorld, steps int, seed uint64, deltaSys, fullSys *System, domain string) {
	ops := w.ops()
	fail := func(step int, format string, a ...any) {
		t.Helper()
		t.Fatalf("seed %d, step %d: %s\noperations (replay with ADSYNC_DIFFTEST_SEED=%d):\n  %s", seed, step, fmt.Sprintf(format, a...), seed, strings.Join(w.log, "\n  "))
	}
	deltaRuns, wantDelta := 0, 0
	for step := 0; step <= steps; step++ {
		w.groupsTouched = false
		switch {
		case step > 0 && w.script != nil:
			w.note("-- step %d", step)
			name := w.script[step-1]
			all := append(slices.Clone(ops), w.scriptOps()...)
			i := slices.IndexFunc(all, func(o diffOp) bool { return o.name == name })
			if i < 0 || !all[i].do(t) {
				fail(step, "the scripted operation %q found nothing to change", name)
			}
		case step > 0:
			w.note("-- step %d", step)
			for n := 1 + w.rng.IntN(3); n > 0; {
				op := ops[w.rng.IntN(len(ops))]
				if op.do(t) {
					n--
				}
			}
		}
		if w.overlap > 0 {
			waitFor(t, "the last group change to age past the delta overlap", 3*w.overlap+5*time.Second, func() bool {
				return time.Since(w.lastTouch) > w.overlap
			})
		}
		dsum, err := deltaSys.RunJob("diff-delta")
		if err != nil || dsum.Outcome != "completed" {
			fail(step, "delta run: outcome %s, err %v, reasons %v", dsum.Outcome, err, dsum.Reasons)
		}
		mode := domainResult(t, dsum, domain).Mode
		if mode == "delta" {
			deltaRuns++
		}
		w.note("   delta job read %s", mode)
		// After the first run, only a change of a group makes a delta
		// read impossible.
		if step > 0 && !w.groupsTouched {
			wantDelta++
			if mode != "delta" {
				fail(step, "the delta job read in full where a delta read was possible: %s", fullReasons(t, deltaSys, dsum.RunID))
			}
		}
		fsum, err := fullSys.RunJob("diff-full", "--mode", "full")
		if err != nil || fsum.Outcome != "completed" {
			fail(step, "full run: outcome %s, err %v, reasons %v", fsum.Outcome, err, fsum.Reasons)
		}
		got, want := map[string]accounts.Account{}, map[string]accounts.Account{}
		for _, a := range deltaSys.Accounts(domain) {
			got[a.ExternalID] = comparable(a)
		}
		for _, a := range fullSys.Accounts(domain) {
			want[a.ExternalID] = comparable(a)
		}
		for id, f := range want {
			d, ok := got[id]
			switch {
			case !ok:
				fail(step, "account %s (%s) of the full run is missing after the delta run", id, f.Username)
			case fmt.Sprintf("%+v", d) != fmt.Sprintf("%+v", f):
				fail(step, "account %s differs:\n  delta: %+v\n  full:  %+v", id, d, f)
			}
		}
		for id, d := range got {
			if _, ok := want[id]; !ok {
				fail(step, "account %s (%s) of the delta run is not in the full run's store", id, d.Username)
			}
		}
		w.check(t, step, got, fail)
	}
	t.Logf("seed %d: %d steps, %d of %d delta-job runs read deltas (%d had to)", seed, steps, deltaRuns, steps+1, wantDelta)
}

// check compares the accounts with the directory and the model.
func (w *diffWorld) check(t *testing.T, step int, got map[string]accounts.Account, fail func(int, string, ...any)) {
	t.Helper()
	scope := w.dir.scope(t)
	byID := map[string]*diffUser{}
	for _, u := range w.users {
		byID[u.id] = u
	}
	for id, want := range scope {
		u := byID[id]
		if u == nil {
			fail(step, "the directory has a user %s in scope that the test did not make", id)
		}
		u.synced, u.gone = true, ""
		a, ok := got[id]
		if !ok {
			fail(step, "no account for %s (%s), in scope in the directory", u.name, id)
		}
		have := wantAccount{Username: a.Username, Email: a.Email, GivenName: a.GivenName, Surname: a.Surname, DisplayName: a.DisplayName,
			UPN: a.UPN, DN: a.DN, Active: a.Active, InactiveReason: a.InactiveReason}
		if !strings.EqualFold(have.DN, want.DN) {
			fail(step, "account %s: dn %q, the directory says %q", u.name, have.DN, want.DN)
		}
		have.DN = want.DN
		if have != want {
			fail(step, "account %s:\n  account:   %+v\n  directory: %+v", u.name, have, want)
		}
		if g := w.teamsOf(u); !slices.Equal(g, a.Groups) {
			fail(step, "account %s: groups %v, want %v", u.name, a.Groups, g)
		}
	}
	for _, u := range w.users {
		if _, in := scope[u.id]; in {
			continue
		}
		a, ok := got[u.id]
		if !u.synced {
			if ok {
				fail(step, "account for %s, which was never in scope", u.name)
			}
			continue
		}
		if u.gone == "" {
			u.gone = "directory-removed"
			if u.exists {
				u.gone = "out-of-scope"
			}
		}
		if !ok || a.Active || a.InactiveReason != u.gone {
			fail(step, "account of %s, which left the scope: %+v, want inactive for %s", u.name, a, u.gone)
		}
	}
}

// fullReasons returns what the log says of why a run's reads were full.
func fullReasons(t *testing.T, sys *System, runID string) string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(readLog(t, sys), "\n") {
		if strings.Contains(line, runID) && strings.Contains(line, "full read") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// attrOf returns the first value of attr of e.
func attrOf(e *ldap.Entry, attr string) string { return e.GetEqualFoldAttributeValue(attr) }

// runDiffSeeds runs the differential test for each seed in a subtest.
// runDiffSeeds runs the differential test: first every operation once, in
// a fixed order (script), then each seed in a subtest. run sets up a world
// and calls runDiffTest.
func runDiffSeeds(t *testing.T, regression []diffSeed, script []string, run func(t *testing.T, seed uint64, steps int, script []string)) {
	if os.Getenv("ADSYNC_DIFFTEST_SEED") == "" {
		t.Run("every-operation", func(t *testing.T) { run(t, 0, len(script), script) })
	}
	for _, s := range diffSettings(t, regression) {
		t.Run(fmt.Sprintf("seed-%d", s.seed), func(t *testing.T) { run(t, s.seed, s.steps, nil) })
	}
}

// diffJobs creates the two jobs: one that reads deltas when it can, one
// that always reads in full. The deletion guard's percentages are off: a
// small directory loses a large share of its users in a step.
func diffJobs(deltaSys, fullSys *System, groupsBase string) {
	for _, j := range []struct {
		sys  *System
		name string
	}{{deltaSys, "diff-delta"}, {fullSys, "diff-full"}} {
		j.sys.MustCLI("job", "create", j.name, "--all-domains", "--groups-base-dn", groupsBase,
			"--max-deactivation-percent", "0", "--max-result-drop-percent", "0")
	}
}

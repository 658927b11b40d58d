package e2e

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/cli"
	"github.com/adsync/adsync/internal/testenv/samba"
	"github.com/adsync/adsync/internal/testenv/slapd"
	"github.com/adsync/adsync/services/account-writer/accounts"
)

// dryRunDir is a directory of the dry-run test: four users u1..u4, and the
// changes a test makes to them.
type dryRunDir struct {
	domain  Domain
	names   [4]string // usernames of u1..u4
	newName string    // the username of the user added later
	disable func(t *testing.T, i int, disabled bool)
	setMail func(t *testing.T, i int, mail string)
	remove  func(t *testing.T, i int)
	add     func(t *testing.T)
}

func slapdDryRunDir(t *testing.T) dryRunDir {
	openldap := slapd.Start(t, slapd.WithUsers(4))
	d := LDAPDomain("corp", openldap)
	d.DisabledFilter = "(employeeType=disabled)"
	dn := func(i int) string { return fmt.Sprintf("uid=user%07d,%s", i+1, openldap.UsersDN) }
	return dryRunDir{
		domain:  d,
		names:   [4]string{"user0000001", "user0000002", "user0000003", "user0000004"},
		newName: "newbie",
		disable: func(t *testing.T, i int, disabled bool) {
			if disabled {
				openldap.Modify(t, dn(i), "employeeType", "disabled")
			} else {
				openldap.Modify(t, dn(i), "employeeType")
			}
		},
		setMail: func(t *testing.T, i int, mail string) { openldap.Modify(t, dn(i), "mail", mail) },
		remove:  func(t *testing.T, i int) { openldap.Delete(t, dn(i)) },
		add:     func(t *testing.T) { openldap.AddUser(t, slapd.User{UID: "newbie", CN: "New Bie", Surname: "Bie"}) },
	}
}

func sambaDryRunDir(t *testing.T) dryRunDir {
	dc := samba.Start(t)
	ou := dc.NewOU(t)
	tag := newTag(t)
	var users []samba.User
	var r dryRunDir
	for i := range 4 {
		r.names[i] = fmt.Sprintf("dr%s-%d", tag, i+1)
		users = append(users, samba.User{CN: "Dry Run " + r.names[i], SAM: r.names[i], Surname: "Run"})
	}
	dns := dc.AddUsers(t, ou, users...)
	r.domain = ADDomain("corp", dc, ou)
	r.newName = "dr" + tag + "-new"
	r.disable = func(t *testing.T, i int, disabled bool) { dc.SetDisabled(t, dns[i], disabled) }
	r.setMail = func(t *testing.T, i int, mail string) { dc.Modify(t, dns[i], "mail", mail) }
	r.remove = func(t *testing.T, i int) { dc.Delete(t, dns[i]) }
	r.add = func(t *testing.T) {
		dc.AddUsers(t, ou, samba.User{CN: "Dry Run New", SAM: r.newName, Surname: "New"})
	}
	return r
}

// A dry run computes the whole plan — a creation, an update, a
// deactivation and a reactivation — prints it (text, and JSON with
// --json) and writes nothing, against OpenLDAP and against Samba AD; the
// real run then does what the plan said.
func TestDryRunPlanWithReactivation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		dir  func(t *testing.T) dryRunDir
	}{
		{"openldap", slapdDryRunDir},
		{"samba", sambaDryRunDir},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := tc.dir(t)
			sys := Start(t, []Domain{dir.domain})
			sys.MustCLI("job", "create", "corp-sync", "--all-domains", "--mode", "full", "--max-deactivation-percent", "0", "--max-result-drop-percent", "0")
			sys.MustComplete("corp-sync")
			dir.disable(t, 1, true)
			sum := sys.MustComplete("corp-sync")
			if _, _, d, _, _ := Counts(t, sum, "corp"); d != 1 {
				t.Fatalf("disabling run: %+v", sum.Domains)
			}

			dir.disable(t, 1, false)               // u2 comes back: reactivate
			dir.setMail(t, 2, "three@example.org") // u3: update
			dir.remove(t, 3)                       // u4: deactivate
			dir.add(t)                             // create
			before := sys.Accounts("corp")

			r := sys.CLI("job", "run", "corp-sync", "--dry-run", "--wait")
			if r.Err != nil {
				t.Fatalf("dry run: %v\n%s%s", r.Err, r.Stdout, r.Stderr)
			}
			for _, w := range []string{
				"would create (1):\n    " + dir.newName + "@corp",
				"would update (1):\n    " + dir.names[2] + "@corp (email)",
				"would deactivate (1):\n    " + dir.names[3] + "@corp — directory-removed",
				"would reactivate (1):\n    " + dir.names[1] + "@corp — directory-enabled",
			} {
				if !strings.Contains(r.Stdout, w) {
					t.Errorf("dry run output lacks %q:\n%s", w, r.Stdout)
				}
			}

			r = sys.CLI("job", "run", "corp-sync", "--dry-run", "--wait", "--json")
			var plan cli.RunSummary
			if err := json.Unmarshal([]byte(r.Stdout), &plan); err != nil || r.Err != nil {
				t.Fatalf("dry run --json: %v %v\n%s%s", err, r.Err, r.Stdout, r.Stderr)
			}
			if !plan.DryRun || plan.Outcome != events.OutcomeCompleted || plan.PlanTruncated != 0 {
				t.Errorf("dry run --json: dry_run %v outcome %s plan_truncated %d", plan.DryRun, plan.Outcome, plan.PlanTruncated)
			}
			if c, u, d, re, _ := Counts(t, plan, "corp"); c != 1 || u != 1 || d != 1 || re != 1 {
				t.Errorf("dry run counts: %+v", plan.Domains)
			}
			want := map[string]accounts.Change{
				dir.newName + "@corp":  {Op: events.OpCreate, Result: accounts.ResultPlanned},
				dir.names[2] + "@corp": {Op: events.OpUpdate, Result: accounts.ResultPlanned},
				dir.names[3] + "@corp": {Op: events.OpDeactivate, Reason: events.ReasonDirectoryRemoved, Result: accounts.ResultPlanned},
				dir.names[1] + "@corp": {Op: events.OpReactivate, Reason: events.ReasonDirectoryEnabled, Result: accounts.ResultPlanned},
			}
			got := map[string]accounts.Change{}
			for _, ch := range plan.Plan {
				got[ch.LocalName] = accounts.Change{Op: ch.Op, Reason: ch.Reason, Result: ch.Result}
				if ch.Domain != "corp" || ch.ExternalID == "" {
					t.Errorf("plan entry without its domain or directory id: %+v", ch)
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("dry run --json plan:\n got %+v\nwant %+v", got, want)
			}
			if after := sys.Accounts("corp"); !reflect.DeepEqual(before, after) {
				t.Fatal("a dry run changed the account store")
			}

			// The real run does exactly what the dry run said.
			sum = sys.MustComplete("corp-sync")
			if c, u, d, re, _ := Counts(t, sum, "corp"); c != 1 || u != 1 || d != 1 || re != 1 {
				t.Fatalf("real run after the dry run: %+v", sum.Domains)
			}
			a := ByUsername(t, sys.Accounts("corp"))[dir.names[1]]
			if !a.Active || a.InactiveReason != "" || a.DeactivatedBy != "" {
				t.Fatalf("reactivated account: %+v", a)
			}
		})
	}
}

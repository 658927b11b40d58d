package e2e

import (
	"strings"
	"testing"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/testenv/slapd"
)

// The groups are read while the users start streaming; a groups read that
// fails (here the job's --groups-base-dn names no entry) still fails the
// run with the directory's word, before any account is written.
func TestAGroupsReadThatFailsFailsTheRun(t *testing.T) {
	t.Parallel()
	openldap := slapd.Start(t)
	for _, uid := range []string{"ann", "bob", "cid"} {
		openldap.AddUser(t, slapd.User{UID: uid})
	}
	sys := Start(t, []Domain{LDAPDomain("lab", openldap)})
	missing := "ou=missing-groups," + openldap.BaseDN
	sys.MustCLI("job", "create", "scoped", "--all-domains", "--groups-base-dn", missing)
	sum, err := sys.RunJob("scoped")
	if err == nil || sum.Outcome != events.OutcomeFailed {
		t.Fatalf("run with a groups base that does not exist: outcome %q, err %v; want failed", sum.Outcome, err)
	}
	d := domainResult(t, sum, "lab")
	if d.Outcome != events.OutcomeFailed || !strings.Contains(d.Reason, "search groups") || !strings.Contains(d.Reason, missing) {
		t.Fatalf("domain result %+v: want failed, naming the groups search and its base", d)
	}
	if n := len(sys.Accounts("lab")); n != 0 {
		t.Fatalf("%d accounts after a failed read, want none", n)
	}
}

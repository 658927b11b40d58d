package e2e

import (
	"slices"
	"testing"

	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/internal/testenv/slapd"
	"github.com/adsync/adsync/services/account-writer/accounts"
)

// A user renamed in OpenLDAP (modrdn to a new uid, same entryUUID) is an
// update of the same account, not a creation and a deactivation — on a
// full read and on a delta read.
func TestIdentityRenameOnOpenLDAP(t *testing.T) {
	t.Parallel()
	openldap := slapd.Start(t, slapd.WithUsers(3))
	sys := Start(t, []Domain{LDAPDomain("lab", openldap)})
	sys.MustCLI("job", "create", "lab-sync", "--all-domains", "--max-deactivation-percent", "0", "--max-result-drop-percent", "0")
	sys.MustComplete("lab-sync")

	for _, tc := range []struct{ mode, from, to string }{
		{"full", "user0000002", "renamed"},
		{"delta", "renamed", "renamed-again"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			was := ByUsername(t, sys.Accounts("lab"))[tc.from]
			dn := openldap.Rename(t, "uid="+tc.from+","+openldap.UsersDN, "uid="+tc.to)
			if id := openldap.EntryUUID(t, dn); id != was.ExternalID {
				t.Fatalf("modrdn changed the entryUUID: %s → %s", was.ExternalID, id)
			}
			sum, err := sys.RunJob("lab-sync", "--mode", tc.mode)
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			d := domainResult(t, sum, "lab")
			if string(d.Mode) != tc.mode || d.Created != 0 || d.Updated != 1 || d.Deactivated != 0 || d.Reactivated != 0 {
				t.Fatalf("rename: %+v", d)
			}
			byName := ByUsername(t, sys.Accounts("lab"))
			if _, old := byName[tc.from]; old {
				t.Fatalf("an account still has the old username %s", tc.from)
			}
			got := byName[tc.to]
			if got.ExternalID != was.ExternalID || got.LocalName != tc.to+"@lab" || !got.Active || got.DN != dn || got.CreatedAt != was.CreatedAt {
				t.Fatalf("renamed account: %+v (was %+v)", got, was)
			}
			if n := len(byName); n != 3 {
				t.Fatalf("%d accounts, want 3", n)
			}
			var rep accounts.RunReport
			if err := json.Unmarshal([]byte(sys.MustCLI("run", "show", sum.RunID, "--json")), &rep); err != nil {
				t.Fatal(err)
			}
			if len(rep.Changes) != 1 || rep.Changes[0].Op != "update" || rep.Changes[0].LocalName != tc.to+"@lab" || !slices.Contains(rep.Changes[0].Fields, "username") {
				t.Fatalf("run show: %+v", rep.Changes)
			}
		})
	}
}

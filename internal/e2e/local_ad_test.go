package e2e

import (
	"strings"
	"testing"

	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/internal/testenv/samba"
	"github.com/adsync/adsync/services/account-writer/accounts"
)

// Local holds on Active Directory: an account an administrator deactivated
// stays inactive while AD has the user enabled — also when AD disables and
// enables the user again — runs update its other fields and count the
// drift, and reactivating it lifts the hold.
func TestLocalHoldOnActiveDirectory(t *testing.T) {
	t.Parallel()
	dc := samba.Start(t)
	ou := dc.NewOU(t)
	tag := newTag(t)
	dns := dc.AddUsers(t, ou,
		samba.User{CN: "Held " + tag, SAM: "held" + tag, Mail: "held@corp.example.com"},
		samba.User{CN: "Other " + tag, SAM: "other" + tag})
	held := "held" + tag + "@corp"
	sys := Start(t, []Domain{ADDomain("corp", dc, ou)})
	sys.MustCLI("job", "create", "corp-sync", "--all-domains", "--max-deactivation-percent", "0", "--max-result-drop-percent", "0")
	sys.MustComplete("corp-sync")

	out := sys.MustCLI("accounts", "deactivate", held, "--reason", "contractor ended; ticket 99")
	if !strings.Contains(out, "inactive (local)") {
		t.Fatalf("deactivate: %s", out)
	}
	heldAccount := func() accounts.Account { return ByUsername(t, sys.Accounts("corp"))["held"+tag] }
	assertHeld := func(t *testing.T, directoryActive bool) {
		t.Helper()
		a := heldAccount()
		if a.Active || a.DeactivatedBy != "local" || a.InactiveReason != "local" || a.LocalNote != "contractor ended; ticket 99" || a.DirectoryActive != directoryActive {
			t.Fatalf("held account: %+v", a)
		}
	}

	for _, step := range []struct {
		name            string
		change          func(t *testing.T)
		mode            string
		directoryActive bool
		drift           int
	}{
		{"other fields are updated (delta read)", func(t *testing.T) { dc.Modify(t, dns[0], "mail", "still-here@corp.example.com") }, "auto", true, 1},
		{"same on a full read", func(t *testing.T) {}, "full", true, 1},
		{"disabled in AD too: no drift", func(t *testing.T) { dc.SetDisabled(t, dns[0], true) }, "auto", false, 0},
		{"enabled again in AD: the hold stays", func(t *testing.T) { dc.SetDisabled(t, dns[0], false) }, "auto", true, 1},
	} {
		t.Run(step.name, func(t *testing.T) {
			step.change(t)
			sum, err := sys.RunJob("corp-sync", "--mode", step.mode)
			if err != nil || sum.Outcome != "completed" {
				t.Fatalf("run: %s %v %v", sum.Outcome, err, sum.Reasons)
			}
			if d := domainResult(t, sum, "corp"); d.Drift != step.drift || d.Reactivated != 0 || d.Deactivated != 0 || d.Created != 0 {
				t.Fatalf("run: %+v", d)
			}
			assertHeld(t, step.directoryActive)
			if a := heldAccount(); a.Email != "still-here@corp.example.com" {
				t.Fatalf("the held account's other fields were not updated: %+v", a)
			}
			var drift []accounts.Account
			if err := json.Unmarshal([]byte(sys.MustCLI("accounts", "drift", "--json")), &drift); err != nil || len(drift) != step.drift {
				t.Fatalf("accounts drift: %v %+v", err, drift)
			}
			if step.drift == 1 && drift[0].LocalName != held {
				t.Fatalf("accounts drift lists %s", drift[0].LocalName)
			}
			if step.name == "enabled again in AD: the hold stays" {
				// The reactivation AD asks for is reported as kept inactive.
				var rep accounts.RunReport
				if err := json.Unmarshal([]byte(sys.MustCLI("run", "show", sum.RunID, "--json")), &rep); err != nil {
					t.Fatal(err)
				}
				if len(rep.Changes) != 1 || rep.Changes[0].LocalName != held || rep.Changes[0].Op != "reactivate" || rep.Changes[0].Result != accounts.ResultKeptInactive {
					t.Fatalf("run show: %+v", rep.Changes)
				}
			}
		})
	}

	// Reactivating (by domain/objectGUID here) lifts the hold; the next run
	// leaves the account active and counts no drift.
	a := heldAccount()
	sys.MustCLI("accounts", "reactivate", "corp/"+a.ExternalID)
	if a := heldAccount(); !a.Active || a.DeactivatedBy != "" || a.InactiveReason != "" {
		t.Fatalf("after reactivate: %+v", a)
	}
	sum := sys.MustComplete("corp-sync")
	if d := domainResult(t, sum, "corp"); d.Drift != 0 || d.Deactivated != 0 {
		t.Fatalf("run after lifting the hold: %+v", d)
	}
	if a := heldAccount(); !a.Active {
		t.Fatalf("after the run: %+v", a)
	}
}

package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/adsync/adsync/internal/testenv/samba"
)

// A first sync of more than one AD page (AD returns at most 1000 entries a
// page), then a second run with no change that writes nothing.
func TestFirstSyncAcrossPagesThenNoChangeWritesNothing(t *testing.T) {
	t.Parallel()
	dc := samba.Start(t)
	ou := dc.NewOU(t)
	const n = 1200
	prefix := "b" + newTag(t)
	dc.BulkAddUsers(t, ou, n, prefix)
	sys := Start(t, []Domain{ADDomain("corp", dc, ou)})
	sys.MustCLI("job", "create", "nightly", "--all-domains", "--mode", "full", "--groups-base-dn", ou)

	sum := sys.MustComplete("nightly")
	created, updated, deactivated, reactivated, _ := Counts(t, sum, "corp")
	if created != n || updated+deactivated+reactivated != 0 {
		t.Fatalf("first run: created %d updated %d deactivated %d reactivated %d, want %d created only", created, updated, deactivated, reactivated, n)
	}
	first := sys.Accounts("corp")
	if len(first) != n {
		t.Fatalf("%d accounts, want one per directory user (%d)", len(first), n)
	}
	byName := ByUsername(t, first)
	for _, probe := range []int{1, 500, 1001, n} {
		sam := fmt.Sprintf("%s%05d", prefix, probe)
		a, ok := byName[sam]
		if !ok {
			t.Fatalf("no account for directory user %s", sam)
		}
		dn := "CN=" + sam + "," + ou
		if want := dc.GUID(t, dn); a.ExternalID != want {
			t.Errorf("%s keyed by %s, want its objectGUID %s", sam, a.ExternalID, want)
		}
		if !a.Active || a.Domain != "corp" {
			t.Errorf("%s: active=%v domain=%s", sam, a.Active, a.Domain)
		}
	}

	again := sys.MustComplete("nightly")
	created, updated, deactivated, reactivated, unchanged := Counts(t, again, "corp")
	if created+updated+deactivated+reactivated != 0 || unchanged != n {
		t.Fatalf("second run without change: created %d updated %d deactivated %d reactivated %d unchanged %d", created, updated, deactivated, reactivated, unchanged)
	}
	// And a delta read (the default mode) reads nothing and writes nothing.
	delta, err := sys.RunJob("nightly", "--mode", "auto")
	if err != nil {
		t.Fatal(err)
	}
	if d := domainResult(t, delta, "corp"); d.Mode != "delta" || d.Entries != 0 || d.Created+d.Updated+d.Deactivated+d.Reactivated != 0 {
		t.Fatalf("delta run without change: %+v", d)
	}
	for _, a := range sys.Accounts("corp") {
		b := byName[a.Username]
		if a.UpdatedAt != b.UpdatedAt || a.LastRunID != b.LastRunID {
			t.Fatalf("account %s was written by a run without change (updated_at %s → %s)", a.Username, b.UpdatedAt, a.UpdatedAt)
		}
	}
}

// The lifecycle of accounts against a real AD: non-ASCII names and escaped
// DNs, a disabled user, removal and moving out of scope (deactivated, never
// deleted), re-enabling and coming back (reactivated).
func TestAccountLifecycleAgainstActiveDirectory(t *testing.T) {
	t.Parallel()
	dc := samba.Start(t)
	ou := dc.NewOU(t)
	outside := dc.NewOU(t)
	// sAMAccountName and UPN are unique in the whole (shared) domain.
	tag := newTag(t)
	users := []samba.User{
		{CN: "Smith, John", SAM: "jsmith" + tag, GivenName: "John", Surname: "Smith", DisplayName: "Smith, John", Mail: "john.smith@corp.example.com", UPN: "jsmith" + tag + "@corp.example.com"},
		{CN: "Zoë Ångström", SAM: "zangstrom" + tag, GivenName: "Zoë", Surname: "Ångström", DisplayName: "Zoë Ångström", Mail: "zoe@corp.example.com", UPN: "zangstrom" + tag + "@corp.example.com"},
		{CN: "Łukasz Müller", SAM: "lmuller" + tag, GivenName: "Łukasz", Surname: "Müller", DisplayName: "Łukasz Müller", Mail: "lukasz@corp.example.com"},
		{CN: "Dora Disabled", SAM: "ddisabled" + tag, DisplayName: "Dora Disabled", Disabled: true},
		{CN: "Gone Soon", SAM: "gone" + tag, DisplayName: "Gone Soon"},
		{CN: "Mover", SAM: "mover" + tag, DisplayName: "Mover"},
		{CN: "Turned Off", SAM: "turnedoff" + tag, DisplayName: "Turned Off"},
		{CN: "Ex Pired", SAM: "expired" + tag, DisplayName: "Ex Pired", AccountExpires: time.Now().Add(-48 * time.Hour)},
	}
	dns := dc.AddUsers(t, ou, users...)
	dn := map[string]string{}
	for i, u := range users {
		dn[strings.TrimSuffix(u.SAM, tag)] = dns[i]
	}
	sys := Start(t, []Domain{ADDomain("corp", dc, ou)})
	// A small test domain: the percentage limits of the deletion guard are
	// off (they are tested on their own).
	sys.MustCLI("job", "create", "corp-sync", "--domain", "corp", "--every", "12h", "--run-when", "scheduled",
		"--max-deactivation-percent", "0", "--max-result-drop-percent", "0", "--mode", "full")

	sum := sys.MustComplete("corp-sync")
	if c, _, _, _, _ := Counts(t, sum, "corp"); c != len(users) {
		t.Fatalf("created %d, want %d", c, len(users))
	}
	acc := byBaseName(t, sys.Accounts("corp"), tag)
	cases := []struct {
		sam, display, given, surname, email, upn string
		active                                   bool
		reason                                   string
	}{
		{"jsmith", "Smith, John", "John", "Smith", "john.smith@corp.example.com", "jsmith" + tag + "@corp.example.com", true, ""},
		{"zangstrom", "Zoë Ångström", "Zoë", "Ångström", "zoe@corp.example.com", "zangstrom" + tag + "@corp.example.com", true, ""},
		{"lmuller", "Łukasz Müller", "Łukasz", "Müller", "lukasz@corp.example.com", "", true, ""},
		{"ddisabled", "Dora Disabled", "", "", "", "", false, "directory-disabled"},
		{"expired", "Ex Pired", "", "", "", "", false, "expired"},
	}
	for _, c := range cases {
		t.Run("first sync/"+c.sam, func(t *testing.T) {
			a, ok := acc[c.sam]
			if !ok {
				t.Fatalf("no account for %s", c.sam)
			}
			if a.DisplayName != c.display || a.GivenName != c.given || a.Surname != c.surname || a.Email != c.email || a.UPN != c.upn {
				t.Errorf("fields: %+v", a)
			}
			if a.Active != c.active || a.InactiveReason != c.reason {
				t.Errorf("active=%v reason=%q, want %v %q", a.Active, a.InactiveReason, c.active, c.reason)
			}
			if a.ExternalID != dc.GUID(t, dn[c.sam]) {
				t.Errorf("external id %s is not the objectGUID", a.ExternalID)
			}
			if !strings.EqualFold(a.DN, dn[c.sam]) {
				t.Errorf("dn %q, want %q", a.DN, dn[c.sam])
			}
		})
	}

	// Directory changes: one removed (directory-removed), one moved out of
	// the base DN (out-of-scope: the directory still has it), one
	// disabled, one re-enabled.
	dc.Delete(t, dn["gone"])
	movedDN := dc.Move(t, dn["mover"], outside)
	dc.SetDisabled(t, dn["turnedoff"], true)
	dc.SetDisabled(t, dn["ddisabled"], false)

	sum = sys.MustComplete("corp-sync")
	created, updated, deactivated, reactivated, unchanged := Counts(t, sum, "corp")
	if created != 0 || updated != 0 || deactivated != 3 || reactivated != 1 || unchanged != 4 {
		t.Fatalf("after changes: created %d updated %d deactivated %d reactivated %d unchanged %d; want 0 0 3 1 4", created, updated, deactivated, reactivated, unchanged)
	}
	// Every change says why, account by account.
	report := sys.MustCLI("run", "show", sum.RunID)
	for _, w := range []string{"gone" + tag + "@corp", "directory-removed", "mover" + tag + "@corp", "out-of-scope", "turnedoff" + tag + "@corp", "directory-disabled", "ddisabled" + tag + "@corp", "directory-enabled"} {
		if !strings.Contains(report, w) {
			t.Errorf("run show lacks %q:\n%s", w, report)
		}
	}
	acc = byBaseName(t, sys.Accounts("corp"), tag)
	if len(acc) != len(users) {
		t.Fatalf("%d accounts, want all %d still present (never deleted)", len(acc), len(users))
	}
	for sam, want := range map[string]string{"gone": "directory-removed", "mover": "out-of-scope", "turnedoff": "directory-disabled"} {
		if a := acc[sam]; a.Active || a.InactiveReason != want || a.DeactivatedBy != "sync" || a.DeactivatedAt == "" {
			t.Errorf("%s: active=%v reason=%q by=%q at=%q, want inactive for %s", sam, a.Active, a.InactiveReason, a.DeactivatedBy, a.DeactivatedAt, want)
		}
	}
	if a := acc["ddisabled"]; !a.Active || a.InactiveReason != "" {
		t.Errorf("re-enabled user: active=%v reason=%q", a.Active, a.InactiveReason)
	}

	// The moved user comes back into scope: reactivated, same account.
	dc.Move(t, movedDN, ou)
	sum = sys.MustComplete("corp-sync")
	if _, _, _, r, _ := Counts(t, sum, "corp"); r != 1 {
		t.Fatalf("reactivated %d after the user came back, want 1", r)
	}
	back := byBaseName(t, sys.Accounts("corp"), tag)["mover"]
	if !back.Active || back.ExternalID != acc["mover"].ExternalID {
		t.Fatalf("returning user: %+v", back)
	}
}

package ldapdir

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/testenv/samba"
)

func TestReadActiveDirectory(t *testing.T) {
	t.Parallel()
	dc := samba.Start(t)
	ou := dc.NewOU(t)
	sfx := ouSuffix(ou)
	past := time.Now().Add(-48 * time.Hour)
	future := time.Now().Add(365 * 24 * time.Hour)
	users := []samba.User{
		{CN: "Smith, John", SAM: "jsmith-" + sfx, GivenName: "John", Surname: "Smith", DisplayName: "Smith, John",
			Mail: "john.smith@example.com", UPN: "jsmith-" + sfx + "@corp.example.com"},
		{CN: "Zoë Ångström", SAM: "zoe-" + sfx, GivenName: "Zoë", Surname: "Ångström", DisplayName: "Zoë Ångström"},
		{CN: "Łukasz Müller", SAM: "lukasz-" + sfx, GivenName: "Łukasz", Surname: "Müller"},
		{CN: "Disabled User", SAM: "dis-" + sfx, Disabled: true},
		{CN: "Expired User", SAM: "exp-" + sfx, AccountExpires: past},
		{CN: "Disabled Expired", SAM: "disexp-" + sfx, Disabled: true, AccountExpires: past},
		{CN: "Expires Later", SAM: "later-" + sfx, AccountExpires: future},
	}
	dns := dc.AddUsers(t, ou, users...)
	group := dc.AddGroup(t, ou, "Team, Blue "+sfx)
	dc.AddMember(t, group, dns[0])

	got, st := readAll(t, adConfig(dc, ou))
	if len(got) != len(users) || st.Skipped != 0 || st.Pages != 1 {
		t.Fatalf("read %d users, stats %+v; want %d", len(got), st, len(users))
	}

	t.Run("fields and escaping round-trip", func(t *testing.T) {
		for i, u := range users {
			e, ok := got[u.SAM]
			if !ok {
				t.Fatalf("%s missing", u.SAM)
			}
			if e.DN != dns[i] || e.GivenName != u.GivenName || e.Surname != u.Surname ||
				e.DisplayName != u.DisplayName || e.Email != u.Mail || e.UPN != u.UPN {
				t.Errorf("%s: got %+v, want %+v (DN %q)", u.SAM, e, u, dns[i])
			}
		}
	})
	t.Run("GUIDs match LDAP and ldbsearch", func(t *testing.T) {
		for i, u := range users {
			id := got[u.SAM].ID
			if want := dc.GUIDFromLDB(t, dns[i]); id != want {
				t.Errorf("%s: ID %q, ldbsearch %q", u.SAM, id, want)
			}
			if want := dc.GUID(t, dns[i]); id != want {
				t.Errorf("%s: ID %q, testenv %q", u.SAM, id, want)
			}
		}
	})
	t.Run("disabled and expired", func(t *testing.T) {
		tests := []struct {
			sam    string
			reason string
		}{
			{"jsmith-" + sfx, ""},
			{"dis-" + sfx, events.ReasonDirectoryDisabled},
			{"exp-" + sfx, events.ReasonExpired},
			{"disexp-" + sfx, events.ReasonDirectoryDisabled},
			{"later-" + sfx, ""},
		}
		for _, tt := range tests {
			t.Run(tt.sam, func(t *testing.T) {
				e := got[tt.sam]
				if e.Disabled != (tt.reason != "") || e.DisabledReason != tt.reason {
					t.Fatalf("Disabled %t %q, want reason %q", e.Disabled, e.DisabledReason, tt.reason)
				}
			})
		}
	})
	t.Run("clock decides expiry", func(t *testing.T) {
		cfg := adConfig(dc, ou)
		cfg.Now = func() time.Time { return future.Add(time.Hour) }
		got, _ := readAll(t, cfg)
		if e := got["later-"+sfx]; !e.Disabled || e.DisabledReason != events.ReasonExpired {
			t.Fatalf("later: %+v", e)
		}
	})
	t.Run("groups", func(t *testing.T) {
		if g := got["jsmith-"+sfx].Groups; len(g) != 1 || !strings.EqualFold(g[0], group) {
			t.Fatalf("groups = %q, want [%q]", g, group)
		}
	})
	t.Run("groups beyond one range", func(t *testing.T) {
		var want []string
		for i := range 5 {
			g := dc.AddGroup(t, ou, "Ranged "+sfx+" "+string(rune('a'+i)))
			dc.AddMember(t, g, dns[1])
			want = append(want, strings.ToLower(g))
		}
		c := dial(t, adConfig(dc, ou))
		c.groupsRange = "0-1" // the server returns two values per range
		var groups []string
		_, err := c.SearchUsers(context.Background(), func(page []events.DirectoryEntry) error {
			for _, e := range page {
				if e.Username == "zoe-"+sfx {
					for _, g := range e.Groups {
						groups = append(groups, strings.ToLower(g))
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(groups)
		if !slices.Equal(groups, want) {
			t.Fatalf("groups = %q, want %q", groups, want)
		}
	})
	t.Run("attribute overrides", func(t *testing.T) {
		dc.Modify(t, dns[2], "employeeID", "E-000042")
		dc.Modify(t, dns[2], "description", "lukasz@example.net")
		cfg := adConfig(dc, ou)
		cfg.UserFilter = "(&(objectClass=user)(employeeID=*))"
		cfg.Attributes = Attributes{ID: "employeeID", Username: "cn", Email: "description", DisplayName: "sn"}
		got, st := readAll(t, cfg)
		e, ok := got["Łukasz Müller"]
		if !ok || len(got) != 1 || st.Skipped != 0 {
			t.Fatalf("got %+v, %+v", got, st)
		}
		if e.ID != "E-000042" || e.Email != "lukasz@example.net" || e.DisplayName != "Müller" || e.GivenName != "Łukasz" {
			t.Fatalf("entry = %+v", e)
		}
	})
	t.Run("disabled_filter", func(t *testing.T) {
		dc.Modify(t, dns[1], "department", "Leavers")
		cfg := adConfig(dc, ou)
		cfg.DisabledFilter = FilterEquals("department", "Leavers")
		got, st := readAll(t, cfg)
		if len(got) != len(users) || st.Pages != 2 {
			t.Fatalf("read %d, stats %+v", len(got), st)
		}
		if e := got["zoe-"+sfx]; !e.Disabled || e.DisabledReason != events.ReasonDirectoryDisabled {
			t.Fatalf("zoe: %+v", e)
		}
		if e := got["exp-"+sfx]; e.DisabledReason != events.ReasonExpired {
			t.Fatalf("expired user: %+v", e)
		}
		if e := got["jsmith-"+sfx]; e.Disabled {
			t.Fatalf("jsmith: %+v", e)
		}
	})
}

// TestReadActiveDirectoryPaging reads more users than AD's MaxPageSize.
func TestReadActiveDirectoryPaging(t *testing.T) {
	t.Parallel()
	dc := samba.Start(t)
	const n = 1200
	ou := dc.BulkOU(t, n)
	tests := []struct {
		pageSize, wantPages int
	}{
		{1000, 2},
		{250, 5},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("page size %d", tt.pageSize), func(t *testing.T) {
			cfg := adConfig(dc, ou)
			cfg.PageSize = tt.pageSize
			start := time.Now()
			got, st := readAll(t, cfg)
			d := time.Since(start)
			t.Logf("read %d users in %d pages in %v (%.0f users/s)", len(got), st.Pages, d.Round(time.Millisecond), float64(len(got))/d.Seconds())
			if len(got) != n || st.Entries != n || st.Pages != tt.wantPages || st.Skipped != 0 {
				t.Fatalf("read %d, stats %+v; want %d users in %d pages", len(got), st, n, tt.wantPages)
			}
			ids := map[string]bool{}
			for _, e := range got {
				if len(e.ID) != 36 || ids[e.ID] {
					t.Fatalf("bad or duplicate ID %q", e.ID)
				}
				ids[e.ID] = true
			}
		})
	}
}

// ouSuffix returns the random suffix of an OU made by testenv's NewOU, to
// keep sAMAccountNames (unique in the whole domain) apart between tests.
func ouSuffix(ouDN string) string {
	rdn, _, _ := strings.Cut(ouDN, ",")
	return rdn[strings.LastIndexByte(rdn, '-')+1:]
}

package ldapdir

import (
	"context"
	"testing"

	"github.com/adsync/adsync/internal/testenv/slapd"
)

// Lookup finds ids anywhere below the domain root; InScope only those the
// sync's scope holds (below base_dn and matching user_filter).
func TestLookupAndInScope(t *testing.T) {
	t.Parallel()
	s := slapd.Start(t)
	inScope := s.AddUser(t, slapd.User{UID: "stays", Mail: "stays@example.org"})
	moved := s.AddUser(t, slapd.User{UID: "moves"})
	filtered := s.AddUser(t, slapd.User{UID: "filtered"})
	elsewhere := s.AddOU(t, "elsewhere")
	moved = s.Move(t, moved, elsewhere)
	s.Modify(t, filtered, "employeeType", "contractor")

	cfg := ldapConfig(s)
	cfg.BaseDN = s.UsersDN
	cfg.UserFilter = "(&(objectClass=inetOrgPerson)(!(employeeType=contractor)))"
	c := dial(t, cfg)
	ids := map[string]string{
		"stays": s.EntryUUID(t, inScope), "moves": s.EntryUUID(t, moved), "filtered": s.EntryUUID(t, filtered),
		"gone": "00000000-0000-0000-0000-000000000000",
	}
	var all []string
	for _, id := range ids {
		all = append(all, id)
	}
	ctx := context.Background()
	found, err := c.Lookup(ctx, all)
	if err != nil {
		t.Fatal(err)
	}
	in, err := c.InScope(ctx, all)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		user          string
		found, inside bool
	}{
		{"stays", true, true},
		{"moves", true, false},
		{"filtered", true, false},
		{"gone", false, false},
	} {
		t.Run(tt.user, func(t *testing.T) {
			id := ids[tt.user]
			if _, ok := found[id]; ok != tt.found {
				t.Errorf("Lookup found %s: %v, want %v (%v)", tt.user, ok, tt.found, found)
			}
			if in[id] != tt.inside {
				t.Errorf("InScope %s: %v, want %v", tt.user, in[id], tt.inside)
			}
		})
	}
}

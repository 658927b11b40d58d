package diff

import (
	"slices"
	"testing"

	"github.com/adsync/adsync/events"
)

func seen(e events.DirectoryEntry, present bool) *Seen {
	e = Normalize(e)
	h, _ := Hash(e)
	return &Seen{Entry: e, Hash: h, Active: !e.Disabled && present, Present: present}
}

func TestDecide(t *testing.T) {
	alice := events.DirectoryEntry{ID: "g1", DN: "CN=Alice,OU=x", Username: "alice", Email: "a@x", Groups: []string{"CN=b", "CN=a"}}
	disabled := alice
	disabled.Disabled, disabled.DisabledReason = true, events.ReasonDirectoryDisabled
	renamed := alice
	renamed.Username = "alice2"
	reordered := alice
	reordered.Groups = []string{"CN=a", "CN=b", "CN=a"}

	cases := []struct {
		name       string
		prev       *Seen
		entry      events.DirectoryEntry
		wantOK     bool
		wantOp     string
		wantReason string
		wantFields []string
	}{
		{"new user", nil, alice, true, events.OpCreate, "", nil},
		{"new disabled user", nil, disabled, true, events.OpCreate, events.ReasonDirectoryDisabled, nil},
		{"unchanged", seen(alice, true), alice, false, "", "", nil},
		{"groups in another order", seen(alice, true), reordered, false, "", "", nil},
		{"disabled in AD", seen(alice, true), disabled, true, events.OpDeactivate, events.ReasonDirectoryDisabled, []string{"active", "inactive_reason"}},
		{"re-enabled", seen(disabled, true), alice, true, events.OpReactivate, events.ReasonDirectoryEnabled, []string{"active", "inactive_reason"}},
		{"returned after removal", seen(alice, false), alice, true, events.OpReactivate, events.ReasonDirectoryReturned, []string{}},
		{"returned disabled", seen(alice, false), disabled, true, events.OpUpdate, events.ReasonDirectoryDisabled, []string{"active", "inactive_reason"}},
		{"renamed", seen(alice, true), renamed, true, events.OpUpdate, "", []string{"username"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := Normalize(c.entry)
			h, _ := Hash(e)
			got, ok := Decide(c.prev, e, h)
			if ok != c.wantOK {
				t.Fatalf("ok = %v, want %v (%+v)", ok, c.wantOK, got)
			}
			if !ok {
				return
			}
			if got.Op != c.wantOp || got.Reason != c.wantReason {
				t.Errorf("op/reason = %s/%q, want %s/%q", got.Op, got.Reason, c.wantOp, c.wantReason)
			}
			if c.wantFields != nil && !slices.Equal(got.Fields, c.wantFields) && !(len(got.Fields) == 0 && len(c.wantFields) == 0) {
				t.Errorf("fields = %v, want %v", got.Fields, c.wantFields)
			}
			if got.ExternalID != c.entry.ID || got.Entry == nil {
				t.Errorf("change must carry the id and the entry: %+v", got)
			}
		})
	}
}

package diff

import (
	"encoding/hex"
	stdjson "encoding/json"
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

// TestHashIsStable pins the hash of an entry with characters that JSON
// encoders treat differently (HTML, U+2028, invalid UTF-8, escapes), and
// checks the encoding against encoding/json's: a hash that changes between
// versions makes every entry look changed.
func TestHashIsStable(t *testing.T) {
	e := Normalize(events.DirectoryEntry{ID: "5f0c0001-1d2e-4a3b-9c8d-000000000001", DN: "CN=Zoë <admin> & co,OU=Users,DC=corp", Username: "zoë",
		UPN: "zoe@corp.example.com", Email: "zoe+\u2028@example.org", DisplayName: "Zoë \"Z\" O'Neil \\ /", GivenName: "Zoë", Surname: "O'Neil\t\xff",
		Groups: []string{"CN=b", "CN=a", "CN=a"}, GroupRefs: []events.GroupRef{{ID: "g1", Name: "staff", DN: "CN=staff"}}, Disabled: true, DisabledReason: "expired"})
	h, raw := Hash(e)
	if got := hex.EncodeToString(h); got != "092d2f0fd173774f23cf9a1528e9ae56" {
		t.Errorf("hash %s, want 092d2f0fd173774f23cf9a1528e9ae56 (the hash of earlier versions)", got)
	}
	for _, e := range []events.DirectoryEntry{e, {}, {ID: "x", Groups: []string{}}, {DisplayName: "\x00\x1f\u007f\u00a0\ufeff\U0001F600"}} {
		_, raw = Hash(e)
		std, err := stdjson.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if string(raw) != string(std) {
			t.Errorf("encoding differs from encoding/json:\n%s\n%s", raw, std)
		}
	}
}

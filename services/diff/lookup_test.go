package diff

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/adsync/adsync/events"
)

// TestLookupChangedReturnsOnlyWhatDiffers records entries, then looks up a
// page against them: an entry with its recorded hash is left out; one with
// another hash, one recorded gone, and one never seen come back (the last
// as nil). Ids are the kinds directories hand out, including non-ASCII ones
// (the lookup takes each key apart by characters).
func TestLookupChangedReturnsOnlyWhatDiffers(t *testing.T) {
	ctx := context.Background()
	st := openState(t, "")
	ids := map[string]string{
		"guid":    "5f0c2a1b-1d2e-4a3b-9c8d-0123456789ab",
		"unicode": "üser-ÿ-雪-1",
		"quotes":  `a"b\c,d'e`,
	}
	entry := func(id, mail string) events.DirectoryEntry {
		return events.DirectoryEntry{ID: id, Username: "u", Email: mail}
	}
	// Record every id with mail "old"; the unicode one also as gone.
	must(t, st.InTx(ctx, func(tx *Tx) error {
		for kind, id := range ids {
			e := entry(id, "old")
			hash, raw := Hash(e)
			if err := tx.Put("r1", "corp", Seen{Entry: e, Hash: hash, Active: true, Present: kind != "unicode", ObservedAt: 1}, raw, nil, nil); err != nil {
				return err
			}
		}
		return nil
	}))
	for _, tt := range []struct {
		name    string
		id      string
		mail    string
		want    bool // returned
		unknown bool // returned as never seen (nil)
	}{
		{name: "same hash", id: ids["guid"], mail: "old", want: false},
		{name: "same hash, quotes in the id", id: ids["quotes"], mail: "old", want: false},
		{name: "other hash", id: ids["guid"], mail: "new", want: true},
		{name: "other hash, quotes in the id", id: ids["quotes"], mail: "new", want: true},
		{name: "recorded gone, same hash", id: ids["unicode"], mail: "old", want: true},
		{name: "never seen", id: "ünknown-雪", mail: "old", want: true, unknown: true},
	} {
		for _, firstSync := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, first sync %v", tt.name, firstSync), func(t *testing.T) {
				hash, _ := Hash(entry(tt.id, tt.mail))
				var got map[string]*Seen
				var raws map[string][]byte
				must(t, st.InTx(ctx, func(tx *Tx) (err error) {
					got, raws, err = lookupChanged(tx, "corp", []string{tt.id}, [][]byte{hash}, firstSync)
					return err
				}))
				prev, ok := got[tt.id]
				if ok != tt.want || len(got) != map[bool]int{true: 1, false: 0}[tt.want] {
					t.Fatalf("LookupChanged returned %v, want %s returned: %v", got, tt.id, tt.want)
				}
				if !tt.want {
					return
				}
				if tt.unknown != (prev == nil) {
					t.Fatalf("record of %s = %+v, want never seen: %v", tt.id, prev, tt.unknown)
				}
				if prev != nil && (len(raws[tt.id]) == 0 || prev.ObservedAt != 1) {
					t.Fatalf("record of %s = %+v (raw %q), want what was put", tt.id, prev, raws[tt.id])
				}
			})
		}
	}
	// A whole page, recorded and new entries mixed: both lookups agree.
	var page []string
	var hashes [][]byte
	for i, id := range []string{"new-1", ids["guid"], "new-2", ids["unicode"], ids["quotes"], "new-3"} {
		mail := "old"
		if i == 1 {
			mail = "new"
		}
		hash, _ := Hash(entry(id, mail))
		page, hashes = append(page, id), append(hashes, hash)
	}
	var plain, first map[string]*Seen
	must(t, st.InTx(ctx, func(tx *Tx) (err error) {
		if plain, _, err = lookupChanged(tx, "corp", page, hashes, false); err != nil {
			return err
		}
		first, _, err = lookupChanged(tx, "corp", page, hashes, true)
		return err
	}))
	if len(plain) != 5 || !reflect.DeepEqual(plain, first) {
		t.Fatalf("a page of 3 new, 2 changed and 1 unchanged entries: LookupChanged %v, the first sync's lookup %v", plain, first)
	}
}

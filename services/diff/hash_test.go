package diff

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	stdjson "encoding/json"
	"fmt"
	"testing"

	"github.com/adsync/adsync/events"
)

// TestHashIsStable pins the hash of an entry with every field set: a hash
// that changes between versions makes the first run after an upgrade
// compare every entry field by field (TestAnOlderHashIsReplacedNotAChange).
func TestHashIsStable(t *testing.T) {
	e := Normalize(events.DirectoryEntry{ID: "5f0c0001-1d2e-4a3b-9c8d-000000000001", DN: "CN=Zoë <admin> & co,OU=Users,DC=corp", Username: "zoë",
		UPN: "zoe@corp.example.com", Email: "zoe+\u2028@example.org", DisplayName: "Zoë \"Z\" O'Neil \\ /", GivenName: "Zoë", Surname: "O'Neil\t\xff",
		Groups: []string{"CN=b", "CN=a", "CN=a"}, GroupRefs: []events.GroupRef{{ID: "g1", Name: "staff", DN: "CN=staff"}}, Disabled: true, DisabledReason: "expired"})
	h, _ := Hash(e)
	if got, want := hex.EncodeToString(h), "d11190f380752834dd00c02f964dafcd"; got != want {
		t.Errorf("hash %s, want %s (the hash of earlier versions)", got, want)
	}
}

// TestHashTellsFieldsApart: moving text from one field to the next, or an
// item from one list to the other, changes the hash.
func TestHashTellsFieldsApart(t *testing.T) {
	base := events.DirectoryEntry{ID: "x", Username: "ab"}
	cases := []events.DirectoryEntry{
		base,
		{ID: "x", Username: "a", UPN: "b"},
		{ID: "xa", Username: "b"},
		{ID: "x", Username: "ab", Groups: []string{"g"}},
		{ID: "x", Username: "ab", GroupRefs: []events.GroupRef{{ID: "g"}}},
		{ID: "x", Username: "ab", GroupRefs: []events.GroupRef{{Name: "g"}}},
		{ID: "x", Username: "ab", Groups: []string{"g", ""}},
		{ID: "x", Username: "ab", Groups: []string{"", "g"}},
		{ID: "x", Username: "ab", Disabled: true},
		{ID: "x", Username: "ab", Disabled: true, DisabledReason: "r"},
	}
	seen := map[string]int{}
	for i, e := range cases {
		h, _ := Hash(e)
		if j, dup := seen[string(h)]; dup {
			t.Errorf("entries %d and %d have the same hash:\n%+v\n%+v", j, i, cases[j], e)
		}
		seen[string(h)] = i
	}
}

// FuzzCanonicalEncoding: two entries have the same encoding only when
// their fields are equal.
func FuzzCanonicalEncoding(f *testing.F) {
	f.Add("a", "bc", "", "d", false, "ab", "c", "", "d", false)
	f.Fuzz(func(t *testing.T, id1, name1, group1, reason1 string, dis1 bool, id2, name2, group2, reason2 string, dis2 bool) {
		entry := func(id, name, group, reason string, disabled bool) events.DirectoryEntry {
			e := events.DirectoryEntry{ID: id, Username: name, DisplayName: group, Disabled: disabled, DisabledReason: reason}
			if group != "" {
				e.Groups = []string{group}
				e.GroupRefs = []events.GroupRef{{ID: id, Name: group}}
			}
			return e
		}
		a, b := entry(id1, name1, group1, reason1, dis1), entry(id2, name2, group2, reason2, dis2)
		if string(appendCanonical(nil, &a)) == string(appendCanonical(nil, &b)) && !sameEntry(&a, &b) {
			t.Fatalf("same encoding for\n%+v\n%+v", a, b)
		}
	})
}

// legacyHash is the hash versions before format 2 recorded: the first 16
// bytes of the SHA-256 of the entry's JSON (encoding/json's, byte for byte).
func legacyHash(t *testing.T, e events.DirectoryEntry) []byte {
	raw, err := stdjson.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	return sum[:16]
}

// TestAnOlderHashIsReplacedNotAChange: after an upgrade from a version
// that hashed entries another way, the first run publishes no change for
// the entries that did not change, records their hash of today's format,
// and still publishes those that did change.
func TestAnOlderHashIsReplacedNotAChange(t *testing.T) {
	s, rec := newService(t)
	ctx := context.Background()
	users := []string{"a", "b", "c"}
	first := runOf{"r1", 1, t0}
	must(t, s.HandlePage(ctx, first.page(1, users...)))
	must(t, s.HandleCompleted(ctx, first.completed(1, 3)))
	rec.take()

	// What the older version recorded.
	for _, e := range first.page(1, users...).Entries {
		if _, err := s.state.db.ExecContext(ctx, `UPDATE entries SET hash=? WHERE domain='corp' AND external_id=?`, legacyHash(t, Normalize(e)), e.ID); err != nil {
			t.Fatal(err)
		}
	}

	second := runOf{"r2", 1, t0.Add(1e9)}
	page := second.page(1, users...)
	page.Entries[2].Email = "c@corp"
	must(t, s.HandlePage(ctx, page))
	must(t, s.HandleCompleted(ctx, second.completed(1, 3)))
	done, ops := ended(t, rec.take())
	if done == nil || done.Planned.Updated != 1 || fmt.Sprint(ops[events.OpUpdate]) != "[id-c]" || len(ops) != 1 {
		t.Fatalf("after the upgrade: %+v, ops %v; want one update, of id-c", done, ops)
	}
	for _, e := range page.Entries {
		want, _ := Hash(Normalize(e))
		var got []byte
		if err := s.state.db.QueryRowContext(ctx, `SELECT hash FROM entries WHERE domain='corp' AND external_id=?`, e.ID).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s: recorded hash %x, want today's %x", e.ID, got, want)
		}
	}

	third := runOf{"r3", 1, t0.Add(2e9)}
	page = third.page(1, users...)
	page.Entries[2].Email = "c@corp"
	must(t, s.HandlePage(ctx, page))
	must(t, s.HandleCompleted(ctx, third.completed(1, 3)))
	if done, ops := ended(t, rec.take()); done == nil || len(ops) != 0 || done.Planned.Unchanged != 3 {
		t.Fatalf("the run after: %+v, ops %v; want 3 unchanged", done, ops)
	}
}

// BenchmarkHashPage: hashing a page of typical entries, as HandlePage does.
func BenchmarkHashPage(b *testing.B) {
	page := make([]events.DirectoryEntry, 2500)
	for i := range page {
		page[i] = Normalize(events.DirectoryEntry{ID: fmt.Sprintf("5f0c%04d-1d2e-4a3b-9c8d-%012d", i%10000, i), DN: fmt.Sprintf("uid=user%06d,ou=people,dc=example,dc=org", i),
			Username: fmt.Sprintf("user%06d", i), Email: fmt.Sprintf("user%06d@example.org", i), DisplayName: fmt.Sprintf("User %06d", i), GivenName: "User", Surname: fmt.Sprintf("%06d", i),
			Groups: []string{"cn=staff,ou=groups,dc=example,dc=org"}, GroupRefs: []events.GroupRef{{ID: "5f0c0000-1d2e-4a3b-9c8d-000000000001", Name: "staff", DN: "cn=staff,ou=groups,dc=example,dc=org"}}})
	}
	for b.Loop() {
		hashPage(page)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(page)), "ns/entry")
}

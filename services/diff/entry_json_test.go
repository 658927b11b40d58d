package diff

import (
	"crypto/sha256"
	"encoding/binary"
	stdjson "encoding/json"
	"fmt"
	"testing"

	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
)

// marshalBoth returns what encoding/json and segmentio's encoder (which
// wrote the stored hashes) make of e; they must agree, and appendEntryJSON
// with them.
func marshalBoth(t *testing.T, e events.DirectoryEntry) string {
	t.Helper()
	std, err := stdjson.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	seg, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if string(std) != string(seg) {
		t.Fatalf("encoding/json and segmentio disagree:\n%s\n%s", std, seg)
	}
	return string(std)
}

// TestAppendEntryJSONIsMarshal: the hashed form of an entry is Marshal's,
// for every field set or empty, and for each kind of character a JSON
// encoder escapes.
func TestAppendEntryJSONIsMarshal(t *testing.T) {
	all := events.DirectoryEntry{ID: "id", DN: "CN=x", Username: "u", UPN: "u@x", Email: "e@x", DisplayName: "D", GivenName: "G", Surname: "S",
		Groups: []string{"CN=a", "CN=b"}, GroupRefs: []events.GroupRef{{ID: "1", Name: "a", DN: "CN=a"}, {ID: "2", Name: "b", DN: "CN=b"}},
		Disabled: true, DisabledReason: "expired"}
	tests := []struct {
		name string
		e    events.DirectoryEntry
	}{
		{"empty", events.DirectoryEntry{}},
		{"every field", all},
		{"empty slices", events.DirectoryEntry{ID: "x", Groups: []string{}, GroupRefs: []events.GroupRef{}}},
		{"one group ref with empty fields", events.DirectoryEntry{GroupRefs: []events.GroupRef{{}}}},
		{"disabled without reason", events.DirectoryEntry{Disabled: true}},
		{"reason without disabled", events.DirectoryEntry{DisabledReason: "x"}},
	}
	for _, s := range []string{"\"quoted\" \\ /", "<admin> & co", "\b\f\n\r\t\x00\x01\x1f\x7f", "Zoë \u00a0\ufeff\U0001F600",
		"\u2028\u2029", "bad \xff\xfe utf-8 \xe2\x82", "\xed\xa0\x80 surrogate", "a\u2027b\u202ac"} {
		tests = append(tests, struct {
			name string
			e    events.DirectoryEntry
		}{"characters " + s, events.DirectoryEntry{ID: s, DN: s, Username: s, DisplayName: s, Groups: []string{s}, GroupRefs: []events.GroupRef{{ID: s, Name: s, DN: s}}, DisabledReason: s}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := string(appendEntryJSON(nil, &tt.e)), marshalBoth(t, tt.e); got != want {
				t.Fatalf("appendEntryJSON:\n%s\nMarshal:\n%s", got, want)
			}
		})
	}
	// A page shares its buffers: each entry keeps its own form.
	page := []events.DirectoryEntry{tests[1].e, tests[0].e, tests[len(tests)-1].e}
	hashes, encs := hashPage(page)
	for i, e := range page {
		h, raw := Hash(e)
		if string(hashes[i]) != string(h) || string(encs[i]) != string(raw) || string(raw) != marshalBoth(t, e) {
			t.Fatalf("entry %d of a page: %x %s, alone %x %s", i, hashes[i], encs[i], h, raw)
		}
	}
}

// FuzzAppendEntryJSON holds appendEntryJSON to Marshal for any strings.
func FuzzAppendEntryJSON(f *testing.F) {
	f.Add("id", "CN=x", "<&>\u2028\xff", "expired", true)
	f.Fuzz(func(t *testing.T, id, dn, name, reason string, disabled bool) {
		e := events.DirectoryEntry{ID: id, DN: dn, Username: name, UPN: name, Email: dn, DisplayName: name, GivenName: id, Surname: reason,
			Groups: []string{dn, name}, GroupRefs: []events.GroupRef{{ID: id, Name: name, DN: dn}}, Disabled: disabled, DisabledReason: reason}
		if got, want := string(appendEntryJSON(nil, &e)), marshalBoth(t, e); got != want {
			t.Fatalf("appendEntryJSON:\n%q\nMarshal:\n%q", got, want)
		}
	})
}

// BenchmarkHashPage: hashing a page of typical entries, as HandlePage does
// (hashPage), and as it did with the generic encoder (one Marshal each).
func BenchmarkHashPage(b *testing.B) {
	page := make([]events.DirectoryEntry, 2500)
	for i := range page {
		page[i] = Normalize(events.DirectoryEntry{ID: fmt.Sprintf("5f0c%04d-1d2e-4a3b-9c8d-%012d", i%10000, i), DN: fmt.Sprintf("uid=user%06d,ou=people,dc=example,dc=org", i),
			Username: fmt.Sprintf("user%06d", i), Email: fmt.Sprintf("user%06d@example.org", i), DisplayName: fmt.Sprintf("User %06d", i), GivenName: "User", Surname: fmt.Sprintf("%06d", i),
			Groups: []string{"cn=staff,ou=groups,dc=example,dc=org"}, GroupRefs: []events.GroupRef{{ID: "5f0c0000-1d2e-4a3b-9c8d-000000000001", Name: "staff", DN: "cn=staff,ou=groups,dc=example,dc=org"}}})
	}
	b.Run("hashPage", func(b *testing.B) {
		for b.Loop() {
			hashPage(page)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(page)), "ns/entry")
	})
	b.Run("Marshal", func(b *testing.B) {
		for b.Loop() {
			for _, e := range page {
				raw, _ := json.Marshal(e)
				sum := sha256.Sum256(raw)
				_ = sum[:16]
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(page)), "ns/entry")
	})
}

// TestPlain8: every byte value, at every place of a word of plain bytes.
func TestPlain8(t *testing.T) {
	for b := 0; b < 256; b++ {
		plain := b >= 0x20 && b < 0x80 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&'
		for pos := range 8 {
			word := []byte("aZ 9~}_a")
			word[pos] = byte(b)
			if got := plain8(binary.LittleEndian.Uint64(word)); got != plain {
				t.Fatalf("byte %#x at %d in %q: plain8 %t, want %t", b, pos, word, got, plain)
			}
		}
	}
}

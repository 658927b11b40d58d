package ldapdir

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/go-ldap/ldap/v3"
	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/schemas/eventschema"
)

// Fuzz flags of FuzzMapEntry.
const (
	fuzzGenericLDAP = 1 << iota // else Active Directory
	fuzzDisabled                // the entry matched DisabledFilter
	fuzzNoUsername              // the username attribute is absent
	fuzzTwoIDs                  // the id attribute has two values
)

var fuzzNow = time.Date(2026, 11, 25, 10, 15, 0, 0, time.UTC)

// FuzzMapEntry maps LDAP entries built from arbitrary attribute values
// (objectGUID of any length, any userAccountControl and accountExpires,
// names with any bytes). Mapping never panics; an entry that is not
// skipped has a usable id, exactly the directory's username and DN, a
// consistent disabled state, and can be published: a directory.page with it
// validates against the schema.
//
//	go test ./internal/ldapdir -run '^$' -fuzz FuzzMapEntry -fuzztime 60s
func FuzzMapEntry(f *testing.F) {
	guid := []byte{0x70, 0x08, 0xd0, 0x0e, 0x81, 0x4d, 0x3b, 0x4f, 0x8d, 0xb3, 0xda, 0x22, 0xf3, 0x2d, 0x05, 0x57}
	seeds := []struct {
		id                                  []byte
		uac, expires, user, display, cn, dn string
		flags                               uint8
	}{
		{guid, "512", "0", "jsmith", "Smith, John", "John Smith", "CN=Smith\\, John,OU=People,DC=corp,DC=example,DC=com", 0},
		{guid, "514", "9223372036854775807", "disabled", "", "", "CN=d,DC=corp", 0},
		{guid, "512", "126227808000000000", "expired", "", "", "CN=e,DC=corp", 0},
		{guid, "66048", "", "zoe", "Zoë Ångström", "", "CN=Zoë,DC=corp", fuzzDisabled},
		{guid, "-2", "-1", "neg", "", "", "CN=n,DC=corp", 0},
		{guid, "0x2", "soon", "hex", "", "", "CN=h,DC=corp", 0},
		{guid, "", "999999999999999999", "far", "", "", "CN=f,DC=corp", 0},
		{guid[:15], "512", "0", "short", "", "", "CN=s,DC=corp", 0},
		{append(guid, 0), "512", "0", "long", "", "", "CN=l,DC=corp", 0},
		{nil, "512", "0", "noid", "", "", "CN=x,DC=corp", 0},
		{guid, "512", "0", "two", "", "", "CN=t,DC=corp", fuzzTwoIDs},
		{guid, "512", "0", "", "", "", "CN=u,DC=corp", fuzzNoUsername},
		{guid, "512", "0", "\xff\xfe", "\x00", "", "CN=\xff,DC=corp", 0},
		{[]byte("0ed00870-4d81-4f3b-8db3-da22f32d0557"), "", "", "user0000001", "", "User 1", "uid=user0000001,ou=people,dc=example,dc=org", fuzzGenericLDAP},
		{[]byte("0ed00870-4d81-4f3b-8db3-da22f32d0557"), "514", "1", "ldapuser", "Display", "", "uid=ldapuser,dc=example,dc=org", fuzzGenericLDAP | fuzzDisabled},
		{guid, "", "", "binary-uuid", "", "", "uid=b,dc=example,dc=org", fuzzGenericLDAP},
	}
	for _, s := range seeds {
		f.Add(s.id, s.uac, s.expires, s.user, s.display, s.cn, s.dn, s.flags)
	}
	f.Fuzz(func(t *testing.T, id []byte, uac, expires, user, display, cn, dn string, flags uint8) {
		typ := ActiveDirectory
		if flags&fuzzGenericLDAP != 0 {
			typ = GenericLDAP
		}
		cfg := Config{Name: "corp", Type: typ, Now: func() time.Time { return fuzzNow }}.WithDefaults()
		a := cfg.Attributes
		e := &ldap.Entry{DN: dn}
		add := func(name string, vals ...[]byte) {
			attr := &ldap.EntryAttribute{Name: name, ByteValues: vals}
			for _, v := range vals {
				attr.Values = append(attr.Values, string(v))
			}
			e.Attributes = append(e.Attributes, attr)
		}
		ids := [][]byte{id}
		if flags&fuzzTwoIDs != 0 {
			ids = append(ids, id)
		}
		add(strings.ToUpper(a.ID), ids...) // attribute names match case-insensitively
		if flags&fuzzNoUsername == 0 {
			add(a.Username, []byte(user))
		}
		add("userAccountControl", []byte(uac))
		add("accountExpires", []byte(expires))
		add(a.DisplayName, []byte(display))
		add("cn", []byte(cn))
		add(a.Email, []byte(user+"@example.org"))

		disabled := flags&fuzzDisabled != 0
		m := newMapper(cfg)
		d, _, reason := m.entry(e, []string{"cn=g," + dn}, disabled)
		if reason != "" {
			return // skipped, with a reason
		}
		switch {
		case d.ID == "" || !utf8.ValidString(d.ID):
			t.Fatalf("delivered with id %q", d.ID)
		case flags&fuzzTwoIDs != 0:
			t.Fatalf("an id attribute with two values was delivered as %q", d.ID)
		case flags&fuzzNoUsername != 0 || user == "" || d.Username != user:
			t.Fatalf("username %q delivered as %q", user, d.Username)
		case d.DN != dn:
			t.Fatalf("dn %q delivered as %q", dn, d.DN)
		case d.Disabled != (d.DisabledReason != ""):
			t.Fatalf("disabled %t with reason %q", d.Disabled, d.DisabledReason)
		case disabled && d.DisabledReason != events.ReasonDirectoryDisabled:
			t.Fatalf("an entry of the disabled filter has reason %q", d.DisabledReason)
		case typ == GenericLDAP && !disabled && d.Disabled:
			t.Fatalf("generic LDAP entry disabled (%q) without the disabled filter", d.DisabledReason)
		case typ == GenericLDAP && display == "" && d.DisplayName != cn:
			t.Fatalf("empty displayName did not fall back to cn %q: %q", cn, d.DisplayName)
		}
		if typ == ActiveDirectory {
			assertGUIDRoundTrip(t, id, d.ID)
		}
		page := events.DirectoryPage{
			Run:    events.Run{RunID: "r1", Job: "j", Trigger: events.TriggerManual, RequestedAt: fuzzNow},
			Domain: "corp", Attempt: 1, Seq: 1, ObservedAt: fuzzNow, Entries: []events.DirectoryEntry{d},
		}
		raw, err := json.Marshal(page)
		if err != nil {
			t.Fatal(err)
		}
		if err := eventschema.ValidateEvent(page.EventName(), raw); err != nil {
			t.Fatalf("mapped entry %+v cannot be published: %v", d, err)
		}
	})
}

// assertGUIDRoundTrip checks that an AD entry's id is the canonical form
// of its 16-byte objectGUID and that the filter value gives the bytes back.
func assertGUIDRoundTrip(t *testing.T, raw []byte, id string) {
	t.Helper()
	want, err := GUIDString(raw)
	if err != nil || id != want {
		t.Fatalf("objectGUID %x delivered as id %q (GUIDString: %q, %v)", raw, id, want, err)
	}
	back, err := guidBytes(id)
	if err != nil || !bytes.Equal(back, raw) {
		t.Fatalf("id %q parses back to %x, %v; want %x", id, back, err, raw)
	}
}

var filterValue = regexp.MustCompile(`^(\\[0-9a-f]{2}){16}$`)

// FuzzGUIDString: any 16 bytes format as a GUID that parses back to them
// through GUIDFilterValue, in upper case and in braces too; any other
// length is an error.
//
//	go test ./internal/ldapdir -run '^$' -fuzz FuzzGUIDString -fuzztime 60s
func FuzzGUIDString(f *testing.F) {
	for _, s := range [][]byte{
		{0x70, 0x08, 0xd0, 0x0e, 0x81, 0x4d, 0x3b, 0x4f, 0x8d, 0xb3, 0xda, 0x22, 0xf3, 0x2d, 0x05, 0x57},
		make([]byte, 16), bytes.Repeat([]byte{0xff}, 16), nil, {1}, make([]byte, 15), make([]byte, 17),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := GUIDString(raw)
		if len(raw) != 16 {
			if err == nil {
				t.Fatalf("%d bytes formatted as %q", len(raw), s)
			}
			return
		}
		if err != nil || len(s) != 36 {
			t.Fatalf("GUIDString(%x) = %q, %v", raw, s, err)
		}
		for _, form := range []string{s, strings.ToUpper(s), "{" + s + "}", " " + s + "\n"} {
			fv, err := GUIDFilterValue(form)
			if err != nil {
				t.Fatalf("GUIDFilterValue(%q): %v", form, err)
			}
			if want := escapeBytes(raw); fv != want {
				t.Fatalf("GUIDFilterValue(%q) = %q, want %q", form, fv, want)
			}
		}
	})
}

// FuzzGUIDFilterValue: any string either is refused or becomes exactly
// sixteen \hh escapes (nothing else can reach an LDAP filter), and then
// names the same GUID as the input.
//
//	go test ./internal/ldapdir -run '^$' -fuzz FuzzGUIDFilterValue -fuzztime 60s
func FuzzGUIDFilterValue(f *testing.F) {
	for _, s := range []string{
		"0ed00870-4d81-4f3b-8db3-da22f32d0557", "{0ED00870-4D81-4F3B-8DB3-DA22F32D0557}", "*)(objectClass=*",
		"0ed00870-4d81-4f3b-8db3-da22f32d055z", "0ed00870x4d81-4f3b-8db3-da22f32d0557", "", "{}", " 0ed00870-4d81-4f3b-8db3-da22f32d0557 ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fv, err := GUIDFilterValue(s)
		if err != nil {
			return
		}
		if !filterValue.MatchString(fv) {
			t.Fatalf("GUIDFilterValue(%q) = %q: not sixteen \\hh escapes", s, fv)
		}
		raw, err := guidBytes(s)
		if err != nil {
			t.Fatalf("guidBytes(%q) refused what GUIDFilterValue accepted: %v", s, err)
		}
		canon, _ := GUIDString(raw)
		got := strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "{"), "}"))
		if canon != got {
			t.Fatalf("GUIDFilterValue(%q) names GUID %s", s, canon)
		}
	})
}

func escapeBytes(raw []byte) string {
	var b strings.Builder
	for _, c := range raw {
		b.WriteString(`\` + hexByte(c))
	}
	return b.String()
}

func hexByte(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&0xf]})
}

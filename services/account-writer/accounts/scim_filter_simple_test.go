package accounts

import (
	"reflect"
	"testing"

	filter "github.com/scim2/filter-parser/v2"
)

// The simple filters parse as the library parses them; every other form
// is left to the library.
func TestSimpleFiltersParseAsTheLibraryDoes(t *testing.T) {
	for _, tc := range []struct {
		raw    string
		simple bool
	}{
		{`userName eq "ada@corp"`, true},
		{`userName EQ "ada@corp"`, true},
		{`userName  sw   "ad"`, true},
		{`externalId eq "0b6b1c6e-6a4f-4c1e-9d2b-000000000001"`, true},
		{`name.familyName ew "Ångström"`, true},
		{`meta.lastModified gt "2026-12-07T00:00:00Z"`, true},
		{`emails.value co "@example.org"`, true},
		{`userName eq ""`, true},
		{`x-attr_1 ne "v"`, true},
		{`userName eq "a\"b"`, false}, // an escape
		{`userName eq "a\\b"`, false}, // an escape
		{`active eq true`, false},     // not a string
		{`userName pr`, false},        // no value
		{`userName xx "a"`, false},    // no such operator
		{`userName eq "a" and active eq true`, false},
		{`not (userName eq "a")`, false},
		{`emails[type eq "work"]`, false},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a"`, false},
		{` userName eq "a"`, false},
		{`userName eq "a" `, false},
		{"userName eq \"a\tb\"", false}, // a control character
	} {
		got, ok := simpleFilter(tc.raw)
		if ok != tc.simple {
			t.Errorf("%q: simple %v, want %v", tc.raw, ok, tc.simple)
			continue
		}
		if !ok {
			continue
		}
		want, err := filter.ParseFilter([]byte(tc.raw))
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%q: %#v, the library: %#v (%v)", tc.raw, got, want, err)
		}
	}
}

// FuzzSimpleFilter: whatever simpleFilter parses, the library parses the
// same.
func FuzzSimpleFilter(f *testing.F) {
	for _, s := range []string{`userName eq "ada@corp"`, `name.givenName SW "A"`, `a eq "b"`, `userName eq "a\"b"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, ok := simpleFilter(raw)
		if !ok {
			return
		}
		want, err := filter.ParseFilter([]byte(raw))
		if err != nil {
			t.Fatalf("%q: simple %#v, the library refuses it: %v", raw, got, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: %#v, the library: %#v", raw, got, want)
		}
	})
}

package ldapdir

import (
	"slices"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

func TestRangedValues(t *testing.T) {
	tests := []struct {
		name     string
		attrs    map[string][]string
		wantVals []string
		wantNext int
	}{
		{"plain", map[string][]string{"memberOf": {"a", "b"}}, []string{"a", "b"}, -1},
		{"case-insensitive name", map[string][]string{"memberof": {"a"}}, []string{"a"}, -1},
		{"first range", map[string][]string{"memberOf;range=0-1499": {"a"}}, []string{"a"}, 1500},
		{"last range", map[string][]string{"memberOf;range=1500-*": {"b"}}, []string{"b"}, -1},
		{"other attribute", map[string][]string{"member;range=0-1": {"x"}}, nil, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vals, next, err := rangedValues(ldap.NewEntry("cn=x", tt.attrs), "memberOf")
			if err != nil || !slices.Equal(vals, tt.wantVals) || next != tt.wantNext {
				t.Fatalf("got %q, %d, %v; want %q, %d", vals, next, err, tt.wantVals, tt.wantNext)
			}
		})
	}
}

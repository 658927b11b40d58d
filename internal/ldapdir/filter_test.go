package ldapdir

import (
	"testing"

	"github.com/go-ldap/ldap/v3"
)

func TestFilterEquals(t *testing.T) {
	tests := []struct {
		attr, value, want string
	}{
		{"uid", "jdoe", "(uid=jdoe)"},
		{"cn", "Smith, John", "(cn=Smith, John)"},
		{"uid", "*)(uid=*", `(uid=\2a\29\28uid=\2a)`},
		{"cn", `back\slash`, `(cn=back\5cslash)`},
		{"cn", "Zoë", `(cn=Zo\c3\ab)`},
		{"cn", "nul\x00byte", `(cn=nul\00byte)`},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got := FilterEquals(tt.attr, tt.value)
			if got != tt.want {
				t.Fatalf("FilterEquals = %q, want %q", got, tt.want)
			}
			if _, err := ldap.CompileFilter(got); err != nil {
				t.Fatalf("does not compile: %v", err)
			}
		})
	}
}

package natsapi

import (
	"strings"
	"testing"
)

// A reply decodes whole, with or without copies of its strings; anything
// after the value is an error that names the service.
func TestDecode(t *testing.T) {
	type reply struct {
		Name string `json:"name"`
	}
	for _, c := range []struct {
		body    string
		want    string
		wantErr bool
	}{
		{`{"name":"ada"}`, "ada", false},
		{"{\"name\":\"ada\"}\n ", "ada", false},
		{`{"name":"a\"da"}`, `a"da`, false},
		{`{"name":"ada"} {"name":"bob"}`, "", true},
		{`{"name":`, "", true},
	} {
		for _, large := range []bool{false, true} {
			var r reply
			var err error
			if large {
				err = DecodeLarge([]byte(c.body), "account-writer", &r)
			} else {
				err = decode([]byte(c.body), "account-writer", &r, 0)
			}
			if c.wantErr {
				if err == nil || !strings.Contains(err.Error(), "account-writer replied with something unreadable") {
					t.Errorf("%q (large %v): %v, want an error naming account-writer", c.body, large, err)
				}
				continue
			}
			if err != nil || r.Name != c.want {
				t.Errorf("%q (large %v): %q, %v; want %q", c.body, large, r.Name, err, c.want)
			}
		}
	}
}

package console

import (
	"fmt"
	"io"
	"testing"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/signin"
	"github.com/adsync/adsync/services/account-writer/accounts"
)

// BenchmarkRenderAccountSearch: the account search's page of 50 accounts,
// each in three groups, as the console sends it to a signed-in viewer.
func BenchmarkRenderAccountSearch(b *testing.B) {
	c := New(Config{})
	s := accountSearch{Domains: []string{"corp"}, Start: 1, Count: pageSize, Total: 100}
	for i := range pageSize {
		u := accounts.UserRecord{Account: events.Account{Domain: "corp", ExternalID: fmt.Sprintf("0b6b1c6e-6a4f-4c1e-9d2b-%012d", i),
			LocalName: fmt.Sprintf("user%07d@corp", i), DisplayName: fmt.Sprintf("User %d", i), Email: fmt.Sprintf("user%07d@example.org", i), Active: true}}
		for g := range 3 {
			u.GroupRefs = append(u.GroupRefs, accounts.GroupRef{ID: fmt.Sprintf("corp:g%d", g), Name: fmt.Sprintf("group-%03d", i%100+g)})
			u.Groups = append(u.Groups, fmt.Sprintf("group-%03d", i%100+g))
		}
		s.Rows = append(s.Rows, rowOf(u))
	}
	p := page{Title: "Accounts", Session: &signin.Session{User: "ada", Role: "viewer", CSRF: "x"}, Data: s}
	b.ReportAllocs()
	for b.Loop() {
		if err := c.tmpl.ExecuteTemplate(io.Discard, "accounts", p); err != nil {
			b.Fatal(err)
		}
	}
}

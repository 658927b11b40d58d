package api

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/internal/natsapi"
	"github.com/adsync/adsync/services/account-writer/accounts"
)

// BenchmarkSCIMPage: the api's part of a SCIM page of 1,000 users with
// count=1000: account-writer's reply decoded, each user made a SCIM User,
// the list encoded as it is sent. Reports ns per user.
func BenchmarkSCIMPage(b *testing.B) {
	page := accounts.SCIMUserPage{Total: 1_000_000}
	for i := range 1000 {
		page.Users = append(page.Users, accounts.SCIMUser{Domain: "bench", ExternalID: fmt.Sprintf("%08x-1234-4abc-8def-0123456789ab", i),
			LocalName: fmt.Sprintf("user%07d@bench", i), DisplayName: fmt.Sprintf("User %07d", i), GivenName: "User", Surname: fmt.Sprintf("%07d", i),
			Email: fmt.Sprintf("user%07d@example.org", i), Active: true, CreatedAt: "2026-12-08T02:28:24.123456789Z", UpdatedAt: "2026-12-08T02:28:24.123456789Z"})
	}
	reply, err := json.Marshal(page)
	if err != nil {
		b.Fatal(err)
	}
	sel, err := parseSelection(url.Values{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		body := append([]byte(nil), reply...) // a fresh reply, as NATS hands it over
		var p accounts.SCIMUserPage
		if err := natsapi.DecodeLarge(body, "account-writer", &p); err != nil {
			b.Fatal(err)
		}
		out := scimListResponse{Schemas: []string{scimListSchema}, StartIndex: 1, Resources: make([]any, 0, len(p.Users)), TotalResults: p.Total}
		for _, u := range p.Users {
			doc, err := scimUser(u, "http://127.0.0.1:8080/scim/v2")
			if err != nil {
				b.Fatal(err)
			}
			out.Resources = append(out.Resources, sel.apply(doc))
		}
		out.ItemsPerPage = len(out.Resources)
		writeSCIMList(discard{}, out)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/user")
}

// discard is a ResponseWriter that keeps nothing.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

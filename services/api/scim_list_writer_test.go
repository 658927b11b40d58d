package api

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/adsync/adsync/services/account-writer/accounts"
)

// writeSCIMList writes the bytes writeSCIM writes for the same list: no
// resource, users as documents, users with selected attributes (maps), and
// more than one flush's worth.
func TestSCIMListIsWrittenAsWhole(t *testing.T) {
	users := func(n int, attrs string) []any {
		sel, err := parseSelection(url.Values{"attributes": {attrs}})
		if err != nil {
			t.Fatal(err)
		}
		var out []any
		for i := range n {
			doc, err := scimUser(accounts.SCIMUser{Domain: "corp", ExternalID: fmt.Sprintf("id-%d", i), LocalName: fmt.Sprintf("<u%d>@corp", i),
				DisplayName: `A "B" & C`, Email: "u@example.org", Active: i%2 == 0, CreatedAt: "c", UpdatedAt: "u"}, "https://x/scim/v2")
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, sel.apply(doc))
		}
		return out
	}
	for _, c := range []struct {
		name      string
		resources []any
	}{
		{"none", []any{}},
		{"users", users(3, "")},
		{"selected attributes", users(3, "userName,name.givenName")},
		{"many", users(200, "")},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := scimListResponse{Schemas: []string{scimListSchema}, TotalResults: 1234, StartIndex: 7, ItemsPerPage: len(c.resources), Resources: c.resources}
			whole, streamed := httptest.NewRecorder(), httptest.NewRecorder()
			writeSCIM(whole, 200, l)
			writeSCIMList(streamed, l)
			if !bytes.Equal(whole.Body.Bytes(), streamed.Body.Bytes()) {
				t.Fatalf("streamed\n%s\nwhole\n%s", streamed.Body.Bytes(), whole.Body.Bytes())
			}
			for _, h := range []string{"Content-Type", "Cache-Control"} {
				if whole.Header().Get(h) != streamed.Header().Get(h) {
					t.Errorf("%s: %q, want %q", h, streamed.Header().Get(h), whole.Header().Get(h))
				}
			}
			if streamed.Code != 200 {
				t.Errorf("status %d", streamed.Code)
			}
		})
	}
}

package api

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/segmentio/encoding/json"
)

// Every route is in the OpenAPI document with the role it requires, and
// every documented operation is a route.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			if method == "parameters" {
				continue
			}
			var op struct {
				Role string `json:"x-adsync-role"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			if _, ok := ParseRole(op.Role); !ok {
				t.Errorf("%s %s: no x-adsync-role", method, path)
			}
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	s, err := New(Config{Listen: "127.0.0.1:0", Tokens: []Token{{Name: "t", Secret: "s", Role: RoleViewer}}}, nil, nil, nil, nil, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	var routes []string
	err = chi.Walk(s.Handler().(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if strings.HasPrefix(route, "/api/") || strings.HasPrefix(route, "/scim/") { // the console is HTML, not API
			routes = append(routes, method+" "+route)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes {
		if !documented[r] {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for d := range documented {
		if !slices.Contains(routes, d) {
			t.Errorf("openapi.json documents %s, which is no route", d)
		}
	}
}

// Every documented route refuses a request without a valid token (401)
// and one whose role is below the documented role (403), before it does
// anything: the document's roles are the ones enforced.
func TestEveryRouteEnforcesItsDocumentedRole(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	tokens := []Token{{Name: "v", Secret: "viewer-secret-0123456789", Role: RoleViewer}, {Name: "o", Secret: "operator-secret-0123456789", Role: RoleOperator}}
	s, err := New(Config{Listen: "127.0.0.1:0", Tokens: tokens}, nil, nil, nil, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	fill := strings.NewReplacer("{name}", "nightly", "{id}", "r1", "{domain}", "corp", "{seq}", "1", "{kind}", "saml")
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			var op struct {
				Role string `json:"x-adsync-role"`
			}
			if method == "parameters" || json.Unmarshal(raw, &op) != nil {
				continue
			}
			role, _ := ParseRole(op.Role)
			url := fill.Replace(path)
			cases := []struct {
				auth string
				want int
			}{{"", http.StatusUnauthorized}, {"Bearer not-a-token-of-ours-at-all", http.StatusUnauthorized}}
			for _, tok := range tokens {
				if tok.Role < role {
					cases = append(cases, struct {
						auth string
						want int
					}{"Bearer " + tok.Secret, http.StatusForbidden})
				}
			}
			for _, c := range cases {
				req := httptest.NewRequest(strings.ToUpper(method), url, strings.NewReader("{}"))
				if c.auth != "" {
					req.Header.Set("Authorization", c.auth)
				}
				rec := httptest.NewRecorder()
				s.Handler().ServeHTTP(rec, req)
				if rec.Code != c.want {
					t.Errorf("%s %s with %q: %d, want %d (%s)", method, path, c.auth, rec.Code, c.want, rec.Body)
				}
			}
		}
	}
}

package api

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
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
	s, err := New(Config{Listen: "127.0.0.1:0", Tokens: []Token{{Name: "t", Secret: "s", Role: RoleViewer}}}, nil, nil, nil, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	var routes []string
	err = chi.Walk(s.Handler().(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		routes = append(routes, method+" "+route)
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

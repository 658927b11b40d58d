package console

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
)

// The assets are served to anyone (they hold nothing secret), and nothing
// beside them: not the templates, however the path is written.
func TestOnlyTheAssetsAreServed(t *testing.T) {
	r := chi.NewRouter()
	New(Config{Log: slog.New(slog.DiscardHandler)}).Routes(r)
	for _, c := range []struct {
		path string
		want int
	}{
		{"/assets/htmx.min.js", http.StatusOK},
		{"/assets/pico.min.css", http.StatusOK},
		{"/assets/../templates/layout.html", http.StatusNotFound},
		{"/assets/%2e%2e/templates/layout.html", http.StatusNotFound},
		{"/assets/templates/layout.html", http.StatusNotFound},
	} {
		req := httptest.NewRequest(http.MethodGet, "http://console.test/", nil)
		req.URL.Path, req.URL.RawPath = c.path, ""
		if strings.Contains(c.path, "%") {
			req.URL.RawPath = c.path
			req.URL.Path = strings.ReplaceAll(c.path, "%2e", ".")
		}
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		if got := rec.Code; (c.want == http.StatusOK) != (got == http.StatusOK) || strings.Contains(rec.Body.String(), "{{define") {
			t.Errorf("GET %s: %d, want %d", c.path, got, c.want)
		}
	}
}

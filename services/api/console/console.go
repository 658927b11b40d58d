// Package console is adsync's web console for administrators: Scheduled
// Jobs, the New AD Sync Job dialog, runs (live while they go), held plans,
// accounts, drift, single sign-on, job servers, dead letters and the audit
// log. The api service serves it at /.
//
// It is server-rendered: Go templates, htmx for the partial updates and
// the live run (its SSE extension), Pico CSS for a readable, responsive
// page without classes everywhere. All three are embedded in the binary:
// nothing to build with Node, nothing fetched at run time. Every change
// goes through internal/admin, like the API's and the command line's, so
// the same rules and messages apply and the audit log names the console
// user.
package console

import (
	"context"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/adsync/adsync/internal/admin"
	"github.com/adsync/adsync/internal/presence"
	"github.com/adsync/adsync/internal/signin"
)

//go:embed assets templates
var files embed.FS

// Config of the console.
type Config struct {
	Ops      *admin.Ops
	Sessions *signin.Sessions
	Servers  func(ctx context.Context) ([]presence.Heartbeat, error)
	// Secure marks cookies Secure (the API is served over TLS).
	Secure bool
	// Directories let a directory's users sign in (console.roles).
	Directories []Directory
	// Alerts is the notifier's bucket of open alerts (read only).
	Alerts jetstream.KeyValue
	Log    *slog.Logger
}

// Console serves the pages.
type Console struct {
	cfg      Config
	tmpl     *template.Template
	throttle *throttle
}

// New returns the console.
func New(cfg Config) *Console {
	funcs := template.FuncMap{
		"time":  timeTag,
		"join":  strings.Join,
		"can":   func(s *signin.Session, role string) bool { return signin.Rank(s.Role) >= signin.Rank(role) },
		"sub":   func(a, b int) int { return a - b },
		"add":   func(a, b int) int { return a + b },
		"lower": strings.ToLower,
		"list":  func(s ...string) []string { return s },
	}
	t := template.Must(template.New("").Funcs(funcs).ParseFS(files, "templates/*.html"))
	return &Console{cfg: cfg, tmpl: t, throttle: newThrottle()}
}

// timeTag shows a time in the browser's zone (console.js rewrites it),
// with UTC on hover.
func timeTag(v any) template.HTML {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case *time.Time:
		if x == nil {
			return "–"
		}
		t = *x
	case string:
		var err error
		if t, err = time.Parse(time.RFC3339Nano, x); err != nil {
			return template.HTML(template.HTMLEscapeString(x))
		}
	}
	if t.IsZero() {
		return "–"
	}
	u := t.UTC().Format(time.RFC3339)
	return template.HTML(`<time datetime="` + u + `" title="` + u + `">` + t.UTC().Format("2006-01-02 15:04 UTC") + `</time>`)
}

// Routes mounts the console on r.
func (c *Console) Routes(r chi.Router) {
	assets, _ := fs.Sub(files, "assets") // only the assets: not the templates beside them
	r.Handle("/assets/*", http.StripPrefix("/assets/", http.FileServerFS(assets)))
	r.Get("/signin", c.signinPage)
	r.Post("/signin", c.signin)
	r.Group(func(r chi.Router) {
		r.Use(c.session, c.csrf)
		r.Post("/signout", c.signout)
		r.Get("/", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/jobs", http.StatusSeeOther) })
		c.jobRoutes(r)
		c.runRoutes(r)
		c.accountRoutes(r)
		c.pageRoutes(r)
	})
}

// page is what every page template gets.
type page struct {
	Title   string
	Session *signin.Session
	Flash   string
	Error   string
	Data    any
}

func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) {
	p := page{Title: title, Session: sessionOf(r), Data: data, Flash: r.URL.Query().Get("done")}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'")
	w.WriteHeader(status)
	if err := c.tmpl.ExecuteTemplate(w, name, p); err != nil {
		c.cfg.Log.Error("console: render", "template", name, "err", err)
	}
}

// fail shows an error page, or for htmx a fragment, with the status an
// operation's error has.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := admin.Status(err)
	c.problem(w, r, status, msg)
}

func (c *Console) problem(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("HX-Retarget", "#messages")
		w.Header().Set("HX-Reswap", "innerHTML")
		w.WriteHeader(status)
		_ = c.tmpl.ExecuteTemplate(w, "message", page{Error: msg})
		return
	}
	c.render(w, r, status, "error", "Error", msg)
}

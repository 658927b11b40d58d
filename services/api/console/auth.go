package console

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/signin"
)

const (
	sessionCookie = "adsync_session"
	// signinCookie carries the sign-in form's CSRF token (double submit):
	// nobody else's page can sign a browser in as someone else.
	signinCookie = "adsync_signin"
)

type sessionKey struct{}

func sessionOf(r *http.Request) *signin.Session {
	s, _ := r.Context().Value(sessionKey{}).(*signin.Session)
	return s
}

// actor is the console user, for the audit log.
func actor(r *http.Request) events.Actor {
	return events.Actor{Kind: events.ActorConsole, Name: sessionOf(r).User}
}

func (c *Console) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, Secure: c.cfg.Secure,
		SameSite: http.SameSiteStrictMode, MaxAge: maxAge}
}

// session lets a signed-in user through; others go to the sign-in page.
func (c *Console) session(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var id string
		if ck, err := r.Cookie(sessionCookie); err == nil {
			id = ck.Value
		}
		s, err := c.cfg.Sessions.Get(r.Context(), id)
		if err != nil {
			c.problem(w, r, http.StatusBadGateway, err.Error())
			return
		}
		if s == nil {
			if r.Header.Get("HX-Request") == "true" {
				w.Header().Set("HX-Redirect", "/signin")
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, "/signin", http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, s)))
	})
}

// csrf refuses a change (any method but GET and HEAD) that does not carry
// the session's token, in the form field csrf or the X-CSRF-Token header.
func (c *Console) csrf(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			token := r.Header.Get("X-CSRF-Token")
			if token == "" {
				token = r.PostFormValue("csrf")
			}
			if token == "" || !signin.Equal(token, sessionOf(r).CSRF) {
				c.cfg.Log.Warn("console: change without a valid CSRF token refused", "user", sessionOf(r).User, "method", r.Method, "path", r.URL.Path)
				c.problem(w, r, http.StatusForbidden, "this request did not carry the page's CSRF token: reload the page and try again")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// require refuses (403) a user whose role is below role.
func (c *Console) require(role string, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s := sessionOf(r); signin.Rank(s.Role) < signin.Rank(role) {
			c.problem(w, r, http.StatusForbidden, s.User+" has the role "+s.Role+"; this needs "+role)
			return
		}
		next(w, r)
	}
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

type signinForm struct {
	CSRF, Name, Error string
}

func (c *Console) signinPage(w http.ResponseWriter, r *http.Request) {
	token := randomToken()
	http.SetCookie(w, c.cookie(signinCookie, token, 600))
	c.render(w, r, http.StatusOK, "signin", "Sign in", signinForm{CSRF: token})
}

// signin checks a local administrator's name and password. Failures are
// logged and slowed down, per name and per client address.
func (c *Console) signin(w http.ResponseWriter, r *http.Request) {
	name, password := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("password")
	ck, err := r.Cookie(signinCookie)
	if err != nil || !signin.Equal(ck.Value, r.PostFormValue("csrf")) {
		c.problem(w, r, http.StatusForbidden, "the sign-in form has expired or did not come from this console: reload it and try again")
		return
	}
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	c.throttle.wait(r.Context(), name, host)
	user, role, kind, err := c.check(r.Context(), name, password)
	if err != nil {
		if !errors.Is(err, signin.ErrBadPassword) && !errors.Is(err, errNoRole) {
			c.cfg.Log.Error("console: sign-in could not be checked", "name", name, "err", err)
			c.problem(w, r, http.StatusBadGateway, "the sign-in could not be checked: "+err.Error())
			return
		}
		c.throttle.failed(name, host)
		c.cfg.Log.Warn("console: sign-in refused", "name", name, "remote", host, "why", err.Error())
		token := randomToken()
		http.SetCookie(w, c.cookie(signinCookie, token, 600))
		c.render(w, r, http.StatusUnauthorized, "signin", "Sign in", signinForm{CSRF: token, Name: name,
			Error: "Wrong name or password, or no role in the console."})
		return
	}
	c.throttle.succeeded(name, host)
	id, _, err := c.cfg.Sessions.Start(r.Context(), user, role, kind)
	if err != nil {
		c.problem(w, r, http.StatusBadGateway, err.Error())
		return
	}
	c.cfg.Log.Info("console: signed in", "user", user, "role", role, "kind", kind, "remote", host)
	http.SetCookie(w, c.cookie(signinCookie, "", -1))
	http.SetCookie(w, c.cookie(sessionCookie, id, 0))
	http.Redirect(w, r, "/jobs", http.StatusSeeOther)
}

// check signs in a directory user (user@domain, domain\user) or a local
// administrator, and returns the user's name, role and kind.
func (c *Console) check(ctx context.Context, name, password string) (string, string, string, error) {
	if d, user, ok := c.directoryFor(name); ok {
		role, err := c.signInDirectory(ctx, d, user, password)
		return user + "@" + d.Name, role, "directory", err
	}
	a, err := c.cfg.Ops.Admins.Verify(ctx, name, password)
	if err != nil {
		return "", "", "", err
	}
	return a.Name, a.Role, "local", nil
}

func (c *Console) signout(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(sessionCookie); err == nil {
		_ = c.cfg.Sessions.End(r.Context(), ck.Value)
	}
	http.SetCookie(w, c.cookie(sessionCookie, "", -1))
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

// throttle slows sign-in attempts after failures: each failure for a name
// or an address doubles the wait before its next attempt (from 250 ms, at
// most 8 s). It is per process; replicas each keep their own.
type throttle struct {
	mu    sync.Mutex
	fails map[string]failures
}

type failures struct {
	n    int
	last time.Time
}

func newThrottle() *throttle { return &throttle{fails: map[string]failures{}} }

func (t *throttle) delay(keys ...string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	var d time.Duration
	for _, k := range keys {
		f := t.fails[k]
		if f.n == 0 || time.Since(f.last) > 15*time.Minute {
			continue
		}
		d = max(d, min(250*time.Millisecond<<min(f.n-1, 5), 8*time.Second))
	}
	return d
}

func (t *throttle) wait(ctx context.Context, name, host string) {
	if d := t.delay("n:"+strings.ToLower(name), "a:"+host); d > 0 {
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
	}
}

func (t *throttle) failed(name, host string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range []string{"n:" + strings.ToLower(name), "a:" + host} {
		f := t.fails[k]
		t.fails[k] = failures{n: f.n + 1, last: time.Now()}
	}
}

func (t *throttle) succeeded(name, host string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.fails, "n:"+strings.ToLower(name))
	delete(t.fails, "a:"+host)
}

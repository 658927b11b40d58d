package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/adsync/adsync/events"
)

// Role is what an API client may do; each role may do what the ones
// before it may.
type Role int

// Roles.
const (
	RoleViewer   Role = iota + 1 // reads everything
	RoleOperator                 // also runs jobs, decides held plans, sets and lifts local holds
	RoleAdmin                    // also changes jobs, single sign-on and dead letters
)

// ParseRole reads a role's name.
func ParseRole(name string) (Role, bool) {
	switch name {
	case "viewer":
		return RoleViewer, true
	case "operator":
		return RoleOperator, true
	case "admin":
		return RoleAdmin, true
	}
	return 0, false
}

func (r Role) String() string {
	switch r {
	case RoleViewer:
		return "viewer"
	case RoleOperator:
		return "operator"
	case RoleAdmin:
		return "admin"
	}
	return "none"
}

type clientKey struct{}

// client is who made a request.
func client(ctx context.Context) Token {
	t, _ := ctx.Value(clientKey{}).(Token)
	return t
}

// actor is who made a request, for the audit log: the token's name.
func actor(r *http.Request) events.Actor {
	return events.Actor{Kind: events.ActorToken, Name: client(r.Context()).Name}
}

// authenticate finds the request's token among the configured ones, or
// answers 401. Every token is compared, each in constant time over its
// SHA-256 (so that neither the match nor the lengths show in the timing),
// and no token is ever logged.
func (s *Service) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || secret == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="adsync"`)
			writeError(w, http.StatusUnauthorized, "authentication required: send Authorization: Bearer <token> (http.tokens)")
			return
		}
		got := sha256.Sum256([]byte(secret))
		var found Token
		match := 0
		for _, t := range s.cfg.Tokens {
			want := sha256.Sum256([]byte(t.Secret))
			if subtle.ConstantTimeCompare(got[:], want[:]) == 1 {
				found, match = t, 1
			}
		}
		if match == 0 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="adsync", error="invalid_token"`)
			s.log.Warn("HTTP request with an unknown token refused", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
			writeError(w, http.StatusUnauthorized, "the token is not one of http.tokens")
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientKey{}, found)))
	})
}

// require answers 403 to a client whose role is below role.
func require(role Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if c := client(r.Context()); c.Role < role {
				writeError(w, http.StatusForbidden, "token "+c.Name+" has the role "+c.Role.String()+"; this needs "+role.String())
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

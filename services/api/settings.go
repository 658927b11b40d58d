package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

// getSSO is the single sign-on switches: while one is on, no sync runs.
func (s *Service) getSSO(w http.ResponseWriter, r *http.Request) {
	st, err := s.ops.Settings.SSO(r.Context())
	if err != nil {
		writeOpError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// ssoRequest is the body of PUT /sso/{kind}.
type ssoRequest struct {
	Enabled bool `json:"enabled"`
	// Force disables every enabled AD Sync Job first.
	Force bool `json:"force,omitempty"`
}

// ssoAnswer says what changed.
type ssoAnswer struct {
	Kind         string   `json:"kind"`
	Enabled      bool     `json:"enabled"`
	DisabledJobs []string `json:"disabled_jobs"`
}

// putSSO switches single sign-on; enabling is refused (409) while enabled
// AD Sync Jobs exist, unless force.
func (s *Service) putSSO(w http.ResponseWriter, r *http.Request) {
	var body ssoRequest
	if !readJSON(w, r, &body, `{"enabled": true, "force": false}`) {
		return
	}
	kind := chi.URLParam(r, "kind")
	disabled, err := s.ops.SetSSO(r.Context(), actor(r), kind, body.Enabled, body.Force)
	if err != nil {
		writeOpError(w, err)
		return
	}
	if disabled == nil {
		disabled = []string{}
	}
	writeJSON(w, http.StatusOK, ssoAnswer{Kind: kind, Enabled: body.Enabled, DisabledJobs: disabled})
}

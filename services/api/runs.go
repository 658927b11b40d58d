package api

import (
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/adsync/adsync/internal/natsapi"
	"github.com/adsync/adsync/services/account-writer/accounts"
)

// getRun is a run's report: its domains' outcomes and counts, and a page
// of the accounts it changed (or planned, or held), after the cursor
// "after" (the report's next).
func (s *Service) getRun(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req := natsapi.RunReportRequest{RunID: chi.URLParam(r, "id"), Limit: 1000, Op: q.Get("op")}
	switch req.Op {
	case "", "create", "update", "deactivate", "reactivate":
	default:
		writeError(w, http.StatusUnprocessableEntity, "op must be create, update, deactivate or reactivate")
		return
	}
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			writeError(w, http.StatusUnprocessableEntity, "after must be the next of the previous page")
			return
		}
		req.After = n
	}
	var ok bool
	if req.Limit, ok = limitParam(w, r, 1000, 5000); !ok {
		return
	}
	rep, err := natsapi.Request[*accounts.RunReport](r.Context(), s.ops.NC, natsapi.SubjectRunReport, "account-writer", req)
	if err != nil {
		writeOpError(w, err)
		return
	}
	if rep == nil || len(rep.Domains) == 0 {
		writeError(w, http.StatusNotFound, "run "+req.RunID+": no report of it (unknown, still going, rejected, or older than accounts.report_retention; its outcome is in GET /api/v1/jobs/{name}/runs)")
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// decideRequest is the optional body of …/approve and …/discard.
type decideRequest struct {
	Domain string `json:"domain,omitempty"`
}

// decide approves or discards a run's held plans (one domain's with a
// body {"domain": …}); account-writer applies the decision at once, and
// the run's report then says what it did.
func (s *Service) decide(decision string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body decideRequest
		if r.ContentLength != 0 && !readJSON(w, r, &body, `{"domain": "corp"}, or empty for every held domain of the run`) {
			return
		}
		decisions, err := s.ops.DecidePlan(r.Context(), actor(r), chi.URLParam(r, "id"), body.Domain, decision)
		if err != nil {
			writeOpError(w, err)
			return
		}
		writeJSON(w, http.StatusAccepted, decisions)
	}
}

// listHeld is the plans the deletion guard holds, one per domain.
func (s *Service) listHeld(w http.ResponseWriter, r *http.Request) {
	list, err := s.ops.Holds.List(r.Context())
	if err != nil {
		writeOpError(w, err)
		return
	}
	if list == nil {
		writeJSON(w, http.StatusOK, []any{})
		return
	}
	writeJSON(w, http.StatusOK, list)
}

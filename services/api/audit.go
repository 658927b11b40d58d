package api

import (
	"net/http"
	"strconv"

	"github.com/adsync/adsync/internal/audit"
)

// auditPage is GET /api/v1/audit: records newest first, and the before of
// the next (older) page.
type auditPage struct {
	Entries []audit.Entry `json:"entries"`
	Next    uint64        `json:"next,omitempty"`
}

// listAudit pages through the audit log, newest first; actor, action and
// target filter it.
func (s *Service) listAudit(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	q := audit.Query{Actor: v.Get("actor"), Action: v.Get("action"), Target: v.Get("target"), Limit: 100}
	if b := v.Get("before"); b != "" {
		n, err := strconv.ParseUint(b, 10, 64)
		if err != nil {
			writeError(w, http.StatusUnprocessableEntity, "before must be the next of the previous page")
			return
		}
		q.Before = n
	}
	var ok bool
	if q.Limit, ok = limitParam(w, r, 100, 1000); !ok {
		return
	}
	entries, next, err := audit.List(r.Context(), s.ops.JS, q)
	if err != nil {
		writeOpError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, auditPage{Entries: entries, Next: next})
}

package api

import (
	"net/http"
	"strconv"

	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/internal/admin"
)

// apiError is every error answer: a message an administrator can act on.
type apiError struct {
	Error struct {
		Status  int    `json:"status"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	var e apiError
	e.Error.Status, e.Error.Message = status, msg
	writeJSON(w, status, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeOpError answers an operation's error (admin.Status).
func writeOpError(w http.ResponseWriter, err error) {
	status, msg := admin.Status(err)
	writeError(w, status, msg)
}

// readJSON decodes a request body of at most 1 MiB into v, refusing
// unknown fields; false after answering 422.
func readJSON(w http.ResponseWriter, r *http.Request, v any, shape string) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusUnprocessableEntity, "the body must be JSON: "+shape+" ("+err.Error()+")")
		return false
	}
	return true
}

// limitParam reads the query's limit (def when absent), or answers 422
// for one that is not a number from 1 to most.
func limitParam(w http.ResponseWriter, r *http.Request, def, most int) (int, bool) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > most {
		writeError(w, http.StatusUnprocessableEntity, "limit must be a number from 1 to "+strconv.Itoa(most))
		return 0, false
	}
	return n, true
}

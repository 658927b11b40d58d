package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/adsync/adsync/internal/admin"
	natsapi "github.com/adsync/adsync/internal/api"
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

// writeRemoteError answers with what a service said: its status (404,
// 409, 422, 400), or 502 when it could not be asked.
func writeRemoteError(w http.ResponseWriter, err error) {
	var re *natsapi.RemoteError
	if errors.As(err, &re) {
		status, cerr := strconv.Atoi(re.Code)
		if cerr != nil || status < 400 || status > 599 {
			status = http.StatusBadRequest
		}
		writeError(w, status, re.Message)
		return
	}
	writeError(w, http.StatusBadGateway, err.Error())
}

// writeOpError answers an operation's error with its kind's status: 422
// bad input, 404, 409; what a service answered; 502 when NATS failed.
func writeOpError(w http.ResponseWriter, err error) {
	switch admin.KindOf(err) {
	case admin.Invalid:
		writeError(w, http.StatusUnprocessableEntity, err.Error())
	case admin.NotFound:
		writeError(w, http.StatusNotFound, err.Error())
	case admin.Conflict:
		writeError(w, http.StatusConflict, err.Error())
	default:
		writeRemoteError(w, err)
	}
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

package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

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

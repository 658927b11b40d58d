package admin

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/adsync/adsync/internal/natsapi"
)

// Status is the HTTP status and message that the API and the console
// answer an operation's error with: 422 bad input, 404, 409 by its kind;
// what a service answered (its status and words); 502 when it could not
// be asked.
func Status(err error) (int, string) {
	switch KindOf(err) {
	case Invalid:
		return http.StatusUnprocessableEntity, err.Error()
	case NotFound:
		return http.StatusNotFound, err.Error()
	case Conflict:
		return http.StatusConflict, err.Error()
	}
	var re *natsapi.RemoteError
	if errors.As(err, &re) {
		status, cerr := strconv.Atoi(re.Code)
		if cerr != nil || status < 400 || status > 599 {
			status = http.StatusBadRequest
		}
		return status, re.Message
	}
	return http.StatusBadGateway, err.Error()
}

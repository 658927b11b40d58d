package api

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/adsync/adsync/events"
	natsapi "github.com/adsync/adsync/internal/api"
)

// accountsPage is GET /api/v1/accounts: a page of accounts in (domain,
// username, id) order, the cursor of the next page, and the account change
// feed's last change when the page was read (follow the feed from
// feed_seq+1 of a snapshot's first page to miss nothing).
type accountsPage struct {
	Accounts []events.Account `json:"accounts"`
	FeedSeq  int64            `json:"feed_seq"`
	Next     string           `json:"next,omitempty"`
}

// cursor is where a page starts: after this account.
type cursor struct {
	Domain   string `json:"d"`
	Username string `json:"u"`
	ID       string `json:"i"`
}

func (s *Service) listAccounts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req := natsapi.AccountsListRequest{Domain: q.Get("domain"), Limit: 1000}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 5000 {
			writeError(w, http.StatusUnprocessableEntity, "limit must be a number from 1 to 5000")
			return
		}
		req.Limit = n
	}
	if v := q.Get("cursor"); v != "" {
		raw, err := base64.RawURLEncoding.DecodeString(v)
		var c cursor
		if err != nil || json.Unmarshal(raw, &c) != nil {
			writeError(w, http.StatusUnprocessableEntity, "cursor is not one this API handed out (use the next of the previous page)")
			return
		}
		req.AfterDomain, req.AfterUsername, req.AfterID = c.Domain, c.Username, c.ID
	}
	resp, err := natsapi.Request[natsapi.AccountsListResponse](r.Context(), s.nc, natsapi.SubjectAccountsList, "account-writer", req)
	if err != nil {
		writeRemoteError(w, err)
		return
	}
	page := accountsPage{Accounts: resp.Accounts, FeedSeq: resp.FeedSeq}
	if page.Accounts == nil {
		page.Accounts = []events.Account{}
	}
	if resp.More && len(resp.Accounts) > 0 {
		last := resp.Accounts[len(resp.Accounts)-1]
		raw, _ := json.Marshal(cursor{last.Domain, last.Username, last.ExternalID})
		page.Next = base64.RawURLEncoding.EncodeToString(raw)
	}
	writeJSON(w, http.StatusOK, page)
}

// holdRequest is the body of PUT …/hold.
type holdRequest struct {
	Reason string `json:"reason"`
}

// setHold deactivates an account locally (a local hold): the sync never
// re-enables it until the hold is lifted. The actor is the token's name.
func (s *Service) setHold(w http.ResponseWriter, r *http.Request) {
	var body holdRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&body); err != nil {
		writeError(w, http.StatusUnprocessableEntity, "the body must be JSON: {\"reason\": \"why\"}")
		return
	}
	if body.Reason == "" {
		writeError(w, http.StatusUnprocessableEntity, "say why: reason is required")
		return
	}
	s.holdOp(w, r, natsapi.SubjectAccountsDeactivate, body.Reason)
}

// liftHold lifts a local hold: the account takes the directory's state.
func (s *Service) liftHold(w http.ResponseWriter, r *http.Request) {
	s.holdOp(w, r, natsapi.SubjectAccountsReactivate, "")
}

func (s *Service) holdOp(w http.ResponseWriter, r *http.Request, subject, reason string) {
	c := client(r.Context())
	req := natsapi.AccountRequest{Ref: chi.URLParam(r, "domain") + "/" + chi.URLParam(r, "id"), Reason: reason, By: "api:" + c.Name}
	a, err := natsapi.Request[events.Account](r.Context(), s.nc, subject, "account-writer", req)
	if err != nil {
		writeRemoteError(w, err)
		return
	}
	s.log.Info("local hold changed through the API", "account", a.LocalName, "active", a.Active, "by", req.By)
	writeJSON(w, http.StatusOK, a)
}

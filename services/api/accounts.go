package api

import (
	"encoding/base64"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/natsapi"
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
	s.pageAccounts(w, r, natsapi.AccountsListRequest{Domain: r.URL.Query().Get("domain")})
}

// listDrift is the accounts deactivated locally that the directory still
// has enabled (`adsync accounts drift`): disable them there too.
func (s *Service) listDrift(w http.ResponseWriter, r *http.Request) {
	s.pageAccounts(w, r, natsapi.AccountsListRequest{Domain: r.URL.Query().Get("domain"), DriftOnly: true})
}

func (s *Service) pageAccounts(w http.ResponseWriter, r *http.Request, req natsapi.AccountsListRequest) {
	q := r.URL.Query()
	var ok bool
	if req.Limit, ok = limitParam(w, r, 1000, 5000); !ok {
		return
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
	resp, err := natsapi.Request[natsapi.AccountsListResponse](r.Context(), s.ops.NC, natsapi.SubjectAccountsList, "account-writer", req)
	if err != nil {
		writeOpError(w, err)
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

// getAccount is one account, by domain and external id.
func (s *Service) getAccount(w http.ResponseWriter, r *http.Request) {
	a, err := natsapi.Request[events.Account](r.Context(), s.ops.NC, natsapi.SubjectAccountsGet, "account-writer",
		natsapi.AccountRequest{Ref: accountRef(r)})
	if err != nil {
		writeOpError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func accountRef(r *http.Request) string {
	return chi.URLParam(r, "domain") + "/" + chi.URLParam(r, "id")
}

// holdRequest is the body of PUT …/hold.
type holdRequest struct {
	Reason string `json:"reason"`
}

// setHold deactivates an account locally (a local hold): the sync never
// re-enables it until the hold is lifted.
func (s *Service) setHold(w http.ResponseWriter, r *http.Request) {
	var body holdRequest
	if !readJSON(w, r, &body, `{"reason": "why"}`) {
		return
	}
	a, err := s.ops.SetHold(r.Context(), actor(r), accountRef(r), body.Reason)
	s.answerAccount(w, a, err)
}

// liftHold lifts a local hold: the account takes the directory's state.
func (s *Service) liftHold(w http.ResponseWriter, r *http.Request) {
	a, err := s.ops.LiftHold(r.Context(), actor(r), accountRef(r))
	s.answerAccount(w, a, err)
}

func (s *Service) answerAccount(w http.ResponseWriter, a events.Account, err error) {
	if err != nil {
		writeOpError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

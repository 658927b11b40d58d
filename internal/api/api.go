// Package api is the request/reply interface that adsync's admin commands
// use to reach the running services over NATS (nats micro endpoints).
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/adsync/adsync/internal/accounts"
)

// Endpoint subjects.
const (
	SubjectAccountsList       = "adsync.api.accounts.list"
	SubjectAccountsGet        = "adsync.api.accounts.get"
	SubjectUsersQuery         = "adsync.api.users.query"
	SubjectGroupsQuery        = "adsync.api.groups.query"
	SubjectAccountsDeactivate = "adsync.api.accounts.deactivate"
	SubjectAccountsReactivate = "adsync.api.accounts.reactivate"
	SubjectRunReport          = "adsync.api.runs.report"
	SubjectDirectoryLookup    = "adsync.api.directory.lookup"
)

// AccountRequest names an account (local name or domain/external_id) for
// a local hold; Reason is the administrator's words.
type AccountRequest struct {
	Ref    string `json:"ref"`
	Reason string `json:"reason,omitempty"`
	By     string `json:"by,omitempty"`
}

// RunReportRequest asks for a run's report, changes after a cursor.
type RunReportRequest struct {
	RunID string `json:"run_id"`
	After int64  `json:"after,omitempty"`
	Limit int    `json:"limit,omitempty"`
	// Op lists only the changes of one kind (create, update, deactivate,
	// reactivate).
	Op string `json:"op,omitempty"`
}

// LookupRequest asks a job server to find ids in a domain's directory.
type LookupRequest struct {
	Domain string   `json:"domain"`
	IDs    []string `json:"ids"`
}

// LookupResponse maps each id found to its DN; InScope lists those found
// inside the sync's scope (base_dn and user_filter), which a complete read
// missed because they changed meanwhile: not gone.
type LookupResponse struct {
	Found   map[string]string `json:"found"`
	InScope []string          `json:"in_scope,omitempty"`
}

// AccountsListRequest asks account-writer for a page of accounts.
type AccountsListRequest = accounts.ListFilter

// AccountsListResponse is a page of accounts; More says whether to ask for
// the next page (after the last account). FeedSeq is the account change
// feed's last change when the page was read: the page holds every change
// up to it. A snapshot read in pages follows the feed from its first
// page's FeedSeq+1 (changes the later pages hold already come again, with
// the whole account).
type AccountsListResponse struct {
	Accounts []accounts.Account `json:"accounts"`
	More     bool               `json:"more"`
	FeedSeq  int64              `json:"feed_seq"`
}

// Error is an endpoint's error reply.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Request sends req to subject and decodes the reply into resp.
func Request[Resp any](ctx context.Context, nc *nats.Conn, subject, service string, req any) (Resp, error) {
	var resp Resp
	body, err := json.Marshal(req)
	if err != nil {
		return resp, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
	}
	msg, err := nc.RequestWithContext(ctx, subject, body)
	if errors.Is(err, nats.ErrNoResponders) {
		return resp, fmt.Errorf("no %s service is running on this NATS server (start adsync run, or adsync serve %s)", service, service)
	}
	if err != nil {
		return resp, fmt.Errorf("ask %s: %w", service, err)
	}
	if code := msg.Header.Get(micro.ErrorCodeHeader); code != "" {
		return resp, &RemoteError{Service: service, Code: code, Message: msg.Header.Get(micro.ErrorHeader)}
	}
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		return resp, fmt.Errorf("%s replied with something unreadable: %w", service, err)
	}
	return resp, nil
}

// RemoteError is an endpoint's error reply: Code is an HTTP status that
// says what kind of error it is (400 bad request, 404 not found, 409
// conflict, 422 invalid).
type RemoteError struct {
	Service, Code, Message string
}

func (e *RemoteError) Error() string { return e.Service + ": " + e.Message }

// StatusError gives an error the status an endpoint answers it with.
type StatusError struct {
	Status string
	Err    error
}

func (e *StatusError) Error() string { return e.Err.Error() }
func (e *StatusError) Unwrap() error { return e.Err }

// Respond encodes v as the reply to a micro request, or an error reply
// (with a StatusError's status; 400 otherwise).
func Respond(r micro.Request, v any, err error) {
	if err != nil {
		code := "400"
		var se *StatusError
		if errors.As(err, &se) {
			code = se.Status
		}
		_ = r.Error(code, err.Error(), nil)
		return
	}
	body, mErr := json.Marshal(v)
	if mErr != nil {
		_ = r.Error("500", mErr.Error(), nil)
		return
	}
	_ = r.Respond(body)
}

// Handler adapts a typed function to a micro endpoint handler: the request
// is decoded from JSON, the result encoded, an error sent as an error reply.
func Handler[Req, Resp any](fn func(ctx context.Context, req Req) (Resp, error)) micro.Handler {
	return micro.HandlerFunc(func(r micro.Request) {
		var req Req
		if err := json.Unmarshal(r.Data(), &req); err != nil {
			Respond(r, nil, fmt.Errorf("bad request: %w", err))
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		resp, err := fn(ctx, req)
		Respond(r, resp, err)
	})
}

// Lanes bounds how many requests ConcurrentHandler answers at once, across
// the endpoints that share it.
type Lanes chan struct{}

// NewLanes returns room for n requests at once.
func NewLanes(n int) Lanes { return make(Lanes, n) }

// ConcurrentHandler is Handler for a read-only fn that is safe to call
// concurrently: NATS delivers an endpoint's requests one after the other,
// so twenty clients' lookups waited on each other; each request now runs
// on its own goroutine once a lane is free (a full set of lanes holds the
// delivery back).
func ConcurrentHandler[Req, Resp any](lanes Lanes, fn func(ctx context.Context, req Req) (Resp, error)) micro.Handler {
	h := Handler(fn)
	return micro.HandlerFunc(func(r micro.Request) {
		lanes <- struct{}{}
		go func() {
			defer func() { <-lanes }()
			h.Handle(r)
		}()
	})
}

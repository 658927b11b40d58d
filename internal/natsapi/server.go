package natsapi

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/micro"
	"github.com/segmentio/encoding/json"
)

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
	buf := replies.Get().(*[]byte)
	defer replies.Put(buf)
	// No HTML escaping: replies go to adsync's own services, not into a
	// page. The buffer is reused: Respond copies it into the connection's
	// buffer, and a page of 1,000 users is about 0.5 MB.
	body, mErr := json.Append((*buf)[:0], v, json.SortMapKeys)
	if mErr != nil {
		_ = r.Error("500", mErr.Error(), nil)
		return
	}
	*buf = body
	_ = r.Respond(body)
}

var replies = sync.Pool{New: func() any { return new([]byte) }}

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

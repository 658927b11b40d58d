package natsapi

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"github.com/segmentio/encoding/json"
)

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

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
	return request[Resp](ctx, nc, subject, service, req, 0)
}

// RequestLarge is Request for a large reply read once, such as a page of
// 1,000 users: the strings of resp point into the reply's bytes instead of
// being copied out of them one by one (the api's SCIM paging made a dozen
// small allocations a user this way).
func RequestLarge[Resp any](ctx context.Context, nc *nats.Conn, subject, service string, req any) (Resp, error) {
	return request[Resp](ctx, nc, subject, service, req, largeReply)
}

// DecodeLarge decodes a reply as RequestLarge does.
func DecodeLarge(body []byte, service string, resp any) error {
	return decode(body, service, resp, largeReply)
}

const largeReply = json.DontCopyString | json.DontCopyRawMessage

func request[Resp any](ctx context.Context, nc *nats.Conn, subject, service string, req any, flags json.ParseFlags) (Resp, error) {
	var resp Resp
	body, err := ask(ctx, nc, subject, service, req)
	if err != nil {
		return resp, err
	}
	return resp, decode(body, service, &resp, flags)
}

// decode is json.Unmarshal with parse flags: json.Parse leaves what
// follows the value, spaces skipped, and anything there is an error.
func decode(body []byte, service string, resp any, flags json.ParseFlags) error {
	rest, err := json.Parse(body, resp, flags)
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("%d bytes after the reply", len(rest))
	}
	if err != nil {
		return fmt.Errorf("%s replied with something unreadable: %w", service, err)
	}
	return nil
}

// ask sends req to subject and returns the reply's body.
func ask(ctx context.Context, nc *nats.Conn, subject, service string, req any) ([]byte, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
	}
	msg, err := nc.RequestWithContext(ctx, subject, body)
	if errors.Is(err, nats.ErrNoResponders) {
		return nil, fmt.Errorf("no %s service is running on this NATS server (start adsync run, or adsync serve %s)", service, service)
	}
	if err != nil {
		return nil, fmt.Errorf("ask %s: %w", service, err)
	}
	if code := msg.Header.Get(micro.ErrorCodeHeader); code != "" {
		return nil, &RemoteError{Service: service, Code: code, Message: msg.Header.Get(micro.ErrorHeader)}
	}
	return msg.Data, nil
}

// RemoteError is an endpoint's error reply: Code is an HTTP status that
// says what kind of error it is (400 bad request, 404 not found, 409
// conflict, 422 invalid).
type RemoteError struct {
	Service, Code, Message string
}

func (e *RemoteError) Error() string { return e.Service + ": " + e.Message }

// Package audit is the audit log: every change made through the API, the
// console or the command line, with who made it (as authenticated), when,
// and the object before and after. Entries are audit.recorded.v1 events in
// the stream ADSYNC_AUDIT, kept for audit.max_age; internal/admin records
// them, and nothing else does.
package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/infra/bus"
)

// Entry is one audit record and its place in the log.
type Entry struct {
	Seq uint64 `json:"seq"`
	events.AuditRecorded
}

// Query selects entries, newest first.
type Query struct {
	// Before is a Seq: only older entries (0: from the newest).
	Before uint64
	// Limit is at most this many (default 100, at most 1000).
	Limit int
	// Actor, Action and Target keep only entries equal to them (Actor as
	// kind:name or name alone).
	Actor, Action, Target string
}

// scanLimit bounds how many entries one filtered query reads; a query
// that reaches it answers with what it found and where to go on.
const scanLimit = 20000

// List returns entries newest first, and the Before of the next page (0:
// none older).
func List(ctx context.Context, js jetstream.JetStream, q Query) ([]Entry, uint64, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	q.Limit = min(q.Limit, 1000)
	st, err := js.Stream(ctx, bus.StreamAudit)
	if err != nil {
		return nil, 0, fmt.Errorf("audit log: %w", err)
	}
	out := []Entry{}
	next, err := bus.EachNewest(ctx, st, q.Before, scanLimit, func(m *jetstream.RawStreamMsg) bool {
		var e Entry
		if json.Unmarshal(m.Data, &e.AuditRecorded) == nil && q.matches(e.AuditRecorded) {
			e.Seq = m.Sequence
			out = append(out, e)
		}
		return len(out) < q.Limit
	})
	if err != nil {
		return nil, 0, fmt.Errorf("audit log: %w", err)
	}
	return out, next, nil
}

func (q Query) matches(e events.AuditRecorded) bool {
	if q.Actor != "" && q.Actor != e.Actor.String() && q.Actor != e.Actor.Name {
		return false
	}
	return (q.Action == "" || q.Action == e.Action) && (q.Target == "" || q.Target == e.Target)
}

// Publisher publishes events (the bus).
type Publisher interface {
	Publish(ctx context.Context, evs ...events.Event) error
}

// Record writes one entry. before and after are the object's state (nil:
// none); they are stored as JSON.
func Record(ctx context.Context, pub Publisher, at time.Time, actor events.Actor, action, target string, before, after any, detail string) error {
	e := &events.AuditRecorded{At: at.UTC(), Actor: actor, Action: action, Target: target, Detail: detail}
	var err error
	if e.Before, err = asJSON(before); err != nil {
		return err
	}
	if e.After, err = asJSON(after); err != nil {
		return err
	}
	// The change is made; an audit log that cannot be written must not be
	// lost quietly, so the caller reports it.
	if err := pub.Publish(context.WithoutCancel(ctx), e); err != nil {
		return fmt.Errorf("the change was made, but its audit record could not be written (%s by %s): %w", action, actor, err)
	}
	return nil
}

func asJSON(v any) (json.RawMessage, error) {
	if v == nil {
		return nil, nil
	}
	if raw, ok := v.(json.RawMessage); ok {
		return raw, nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("audit record: %w", err)
	}
	if string(raw) == "null" {
		return nil, nil
	}
	return raw, nil
}

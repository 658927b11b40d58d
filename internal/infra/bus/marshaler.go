package bus

import (
	"fmt"
	"strings"

	"github.com/ThreeDotsLabs/watermill/message"
	// Same behaviour as encoding/json, about 5× faster to decode a page of
	// entries (BenchmarkMarshaler): events are most of diff's and
	// account-writer's CPU on a large sync.
	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
)

// Metadata keys set on watermill messages.
const (
	metaName        = "name"
	metaError       = "adsync_error"
	metaDisposition = "adsync_disposition"
	metaRetryAfter  = "adsync_retry_after"
)

// Marshaler is the watermill CQRS marshaler of adsync events: JSON payloads,
// the wire name as the event name, the deterministic message id as the
// watermill UUID (and so as Nats-Msg-Id), and schema validation on receipt.
type Marshaler struct {
	// SkipValidation turns off schema validation of received events (the
	// decoder still rejects what it cannot decode).
	SkipValidation bool
}

// Marshal encodes an events.Event.
func (m Marshaler) Marshal(v any) (*message.Message, error) {
	ev, ok := v.(events.Event)
	if !ok {
		return nil, fmt.Errorf("marshal %T: not an adsync event", v)
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("marshal %s: %w", ev.EventName(), err)
	}
	msg := message.NewMessage(ev.MessageID(), payload)
	msg.Metadata.Set(metaName, ev.EventName())
	return msg, nil
}

// Unmarshal decodes and validates a received event. What cannot be decoded
// or does not match the event's schema is rejected (dead-lettered). Each
// event's Validate is generated from its JSON Schema (events/validate_gen.go)
// and checks the decoded event, what the handler will see.
func (m Marshaler) Unmarshal(msg *message.Message, v any) error {
	name := m.NameFromMessage(msg)
	if err := json.Unmarshal(msg.Payload, v); err != nil {
		return Reject(fmt.Errorf("malformed %s event: %w", name, err))
	}
	if m.SkipValidation {
		return nil
	}
	ev, ok := v.(interface{ Validate() error })
	if !ok {
		return Reject(fmt.Errorf("malformed %s event: %T has no Validate", name, v))
	}
	if err := ev.Validate(); err != nil {
		return Reject(fmt.Errorf("malformed %s event: %s", name, strings.ReplaceAll(err.Error(), "\n", "; ")))
	}
	return nil
}

// Name returns the wire name of an event value.
func (m Marshaler) Name(v any) string {
	if ev, ok := v.(events.Event); ok {
		return ev.EventName()
	}
	return fmt.Sprintf("%T", v)
}

// NameFromMessage returns the wire name of a received message.
func (m Marshaler) NameFromMessage(msg *message.Message) string {
	return msg.Metadata.Get(metaName)
}

// NameFromSubject returns the wire name of a subject: "sync.requested.v1"
// of "adsync.sync.requested.v1", and "account.changed.v1" of a feed
// subject, which the domain completes ("adsync.account.changed.v1.corp").
func NameFromSubject(subject string) string {
	name := strings.TrimPrefix(subject, events.SubjectPrefix)
	parts := strings.Split(name, ".")
	for i, p := range parts {
		if len(p) > 1 && p[0] == 'v' && strings.Trim(p[1:], "0123456789") == "" {
			return strings.Join(parts[:i+1], ".")
		}
	}
	return name
}

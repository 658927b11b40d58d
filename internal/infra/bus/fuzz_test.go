package bus_test

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/schemas/eventschema"
)

// FuzzUnmarshal feeds arbitrary payloads, as any event, to the marshaler
// that decodes what the consumers receive. It must never panic; what it
// refuses must be a dead letter (never retried forever); what it accepts
// must re-marshal to JSON that the event's schema accepts (checked by a
// full JSON Schema validator) and that decodes to the same event again.
//
//	go test ./internal/infra/bus -run '^$' -fuzz FuzzUnmarshal -fuzztime 60s
func FuzzUnmarshal(f *testing.F) {
	all := events.All()
	for _, s := range fuzzSeeds() {
		f.Add(s.event, s.payload)
	}
	f.Fuzz(func(t *testing.T, which uint8, payload []byte) {
		proto := all[int(which)%len(all)]
		name := proto.EventName()
		v := newEventLike(proto)
		err := bus.Marshaler{}.Unmarshal(received(name, payload), v)
		if err != nil {
			if d, _ := bus.Classify(err); d != bus.DeadLetter {
				t.Fatalf("%s refused with %v, disposition %v: a malformed message must be dead-lettered", name, err, d)
			}
			return
		}
		// Validate checks the decoded event (what handlers see), which
		// takes a missing zero-valued property ("dn", "version") or a
		// date-time with a one-digit hour as encoding/json decodes them:
		// the payload as sent is not checked against the schema here.
		again, err := bus.Marshaler{}.Marshal(v)
		if err != nil {
			t.Fatalf("%s accepted %q but does not marshal: %v", name, payload, err)
		}
		// What a handler sees is valid (a key such as "RUN_ID", which
		// encoding/json folds into "run_id", must not get past the schema).
		if err := eventschema.ValidateEvent(name, again.Payload); err != nil {
			t.Fatalf("%s accepted %q, which re-marshals to %s, invalid: %v", name, payload, again.Payload, err)
		}
		v2 := newEventLike(proto)
		if err := (bus.Marshaler{}).Unmarshal(received(name, again.Payload), v2); err != nil {
			t.Fatalf("%s: re-marshaled %s is refused: %v", name, again.Payload, err)
		}
		third, _ := json.Marshal(v2)
		if !bytes.Equal(third, again.Payload) {
			t.Fatalf("%s: decoding is not stable:\n%s\n%s", name, again.Payload, third)
		}
	})
}

// received is a message as the subscriber hands it to the marshaler.
func received(name string, payload []byte) *message.Message {
	m := message.NewMessage("fuzz", payload)
	m.Metadata.Set("name", name)
	return m
}

// newEventLike returns a new zero value of proto's type.
func newEventLike(proto events.Event) events.Event {
	return reflect.New(reflect.TypeOf(proto).Elem()).Interface().(events.Event)
}

type fuzzSeed struct {
	event   uint8
	payload []byte
}

// fuzzSeeds are a valid sample of every event (as of this writing) and
// broken payloads for each event.
func fuzzSeeds() []fuzzSeed {
	all := events.All()
	index := map[string]uint8{}
	for i, e := range all {
		index[e.EventName()] = uint8(i)
	}
	var seeds []fuzzSeed
	for _, e := range validSamples() {
		raw, _ := json.Marshal(e)
		seeds = append(seeds, fuzzSeed{index[e.EventName()], raw})
	}
	// Later events, as JSON (they need no struct literal here).
	run := `"run_id":"nightly-20261125T101500Z-ab12cd","job":"nightly","trigger":"manual","requested_at":"2026-11-25T10:15:00Z"`
	for name, raw := range map[string]string{
		"plan.decided.v1": `{` + run + `,"domain":"corp","decision":"approve","decided_by":"admin","decided_at":"2026-11-25T10:20:00Z"}`,
		"plan.applied.v1": `{` + run + `,"domain":"corp","decision":"discard","counts":{"created":0,"updated":0,"deactivated":0,"reactivated":0,"unchanged":0},"failed":0,"at":"2026-11-25T10:21:00Z"}`,
	} {
		if i, ok := index[name]; ok {
			seeds = append(seeds, fuzzSeed{i, []byte(raw)})
		}
	}
	broken := [][]byte{
		nil, []byte("null"), []byte("{}"), []byte("[]"), []byte(`"x"`), []byte(`{"run_id":`),
		[]byte(`{"run_id":1,"job":true}`),
		[]byte(`{"run_id":"r","job":"j","trigger":"manual","requested_at":"2026-13-45T99:00:00Z"}`),
		// encoding/json matches keys case-insensitively, the schema does not.
		[]byte(`{"run_id":"r1","job":"j","trigger":"manual","requested_at":"2026-11-25T10:15:00Z","RUN_ID":"bad id!"}`),
		[]byte(`{"run_id":"r1","job":"j","trigger":"manual","requested_at":"2026-11-25T10:15:00Z","attempt":1e400}`),
	}
	for i := range all {
		for _, b := range broken {
			seeds = append(seeds, fuzzSeed{uint8(i), b})
		}
	}
	return seeds
}

// validSamples is one valid instance of each event of events.All() when
// this test was written; events added later are fuzzed from the broken
// seeds and what the fuzzer finds.
func validSamples() []events.Event {
	at := time.Date(2026, 11, 25, 10, 15, 0, 0, time.UTC)
	run := events.Run{RunID: "nightly-20261125T101500Z-ab12cd", Job: "nightly", Trigger: events.TriggerManual, RequestedAt: at}
	entry := events.DirectoryEntry{ID: "0ed00870-4d81-4f3b-8db3-da22f32d0557", DN: `CN=Smith\, John,OU=People,DC=corp,DC=example,DC=com`,
		Username: "jsmith", UPN: "jsmith@corp.example.com", Email: "j@x", DisplayName: "Zoë Ångström", Groups: []string{"CN=Staff,DC=corp"},
		Disabled: true, DisabledReason: events.ReasonDirectoryDisabled}
	pol := events.RequeuePolicy{Enabled: true, MaxAttempts: 3, InitialDelay: events.Duration(30 * time.Second), MaxDelay: events.Duration(10 * time.Minute)}
	counts := events.Counts{Created: 1, Updated: 2, Deactivated: 3, Reactivated: 4, Unchanged: 5}
	return []events.Event{
		&events.SyncRequested{Run: run, Slot: "2026-11-25T10:00:00Z", Mode: events.ModeFull},
		&events.SyncApproved{Run: run, Domains: []string{"corp"}, Requeue: pol, LeaseExpiresAt: at.Format(time.RFC3339)},
		&events.SyncRejected{Run: run, Reasons: []string{"SAML single sign-on is enabled"}, Codes: []string{"sso-enabled"}},
		&events.DirectoryRequested{Run: run, Domain: "corp", Domains: []string{"corp", "lab"}, Requeue: pol},
		&events.DirectoryPage{Run: run, Domain: "corp", Attempt: 1, Seq: 1, ObservedAt: at, Entries: []events.DirectoryEntry{entry}},
		&events.DirectoryCompleted{Run: run, Domain: "corp", Domains: []string{"corp"}, Attempt: 1, Pages: 2, Entries: 1200, StartedAt: at, FinishedAt: at,
			SkippedDNs: []events.Skipped{{DN: "CN=x", Reason: "no objectGUID"}}, Skipped: 1},
		&events.DirectoryFailed{Run: run, Domain: "corp", Domains: []string{"corp"}, Attempt: 2, Reason: "connection refused", Transient: true,
			WillRetry: true, RetryIn: "1m0s", MaxAttempts: 3, FailedAt: at},
		&events.AccountChanges{Run: run, Domain: "corp", Attempt: 1, Batch: "p1", Changes: []events.AccountChange{
			{Op: events.OpCreate, ExternalID: entry.ID, Entry: &entry, Version: 1},
			{Op: events.OpDeactivate, ExternalID: "x", Reason: events.ReasonDirectoryRemoved, Version: 2},
		}},
		&events.ChangesCompleted{Run: run, Domain: "corp", Domains: []string{"corp"}, Attempt: 1, Outcome: events.OutcomeCompleted, Batches: 3,
			Planned: counts, Entries: 15, Attempts: 1},
		&events.SyncCompleted{Run: run, Outcome: events.OutcomeCompleted, Reasons: []string{}, FinishedAt: at, Totals: counts,
			Domains: []events.DomainResult{{Domain: "corp", Outcome: events.OutcomeCompleted, Attempts: 1, Entries: 15, Counts: counts}}},
	}
}

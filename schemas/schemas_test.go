package schemas_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/schemas"
	"github.com/adsync/adsync/schemas/eventschema"
)

func sampleRun() events.Run {
	return events.Run{RunID: "nightly-20261125T101500Z-ab12cd", Job: "nightly", Trigger: events.TriggerManual, RequestedAt: time.Now().UTC()}
}

// samples returns one realistic instance of every event.
func samples() []events.Event {
	run := sampleRun()
	now := time.Now().UTC()
	entry := events.DirectoryEntry{ID: "0ed00870-4d81-4f3b-8db3-da22f32d0557", DN: `CN=Smith\, John,OU=People,DC=corp,DC=example,DC=com`,
		Username: "jsmith", UPN: "jsmith@corp.example.com", Email: "j@x", DisplayName: "Zoë Ångström", Groups: []string{"CN=Staff,DC=corp"},
		GroupRefs: []events.GroupRef{{ID: "9a1b", Name: "Staff", DN: "CN=Staff,DC=corp"}},
		Disabled:  true, DisabledReason: events.ReasonDirectoryDisabled}
	pol := events.RequeuePolicy{Enabled: true, MaxAttempts: 3, InitialDelay: events.Duration(30 * time.Second), MaxDelay: events.Duration(10 * time.Minute)}
	counts := events.Counts{Created: 1, Updated: 2, Deactivated: 3, Reactivated: 4, Unchanged: 5, Joined: 6, Left: 7}
	heldRun := run
	heldRun.Held = []events.HeldDomain{{Domain: "lab", RunID: "nightly-20261124T101500Z-cd34ef", Reasons: []string{"deactivates 30 of 100 active accounts (30.0%)"}}}
	return []events.Event{
		&events.SyncRequested{Run: run},
		&events.SyncApproved{Run: run, Domains: []string{"corp"}, Requeue: pol, LeaseExpiresAt: now.Format(time.RFC3339)},
		&events.SyncApproved{Run: heldRun, Domains: []string{"corp"}, Requeue: pol, LeaseExpiresAt: now.Format(time.RFC3339)},
		&events.SyncRejected{Run: run, Reasons: []string{"SAML single sign-on is enabled"}, Codes: []string{"sso-enabled"}},
		&events.DirectoryRequested{Run: run, Domain: "corp", Domains: []string{"corp", "lab"}, Requeue: events.RequeuePolicy{}},
		&events.DirectoryPage{Run: run, Domain: "corp", Attempt: 1, Seq: 1, ObservedAt: now, Entries: []events.DirectoryEntry{entry}},
		&events.DirectoryCompleted{Run: run, Domain: "corp", Domains: []string{"corp"}, Attempt: 1, Pages: 2, Entries: 1200, StartedAt: now, FinishedAt: now,
			SkippedDNs: []events.Skipped{{DN: "CN=x", Reason: "no objectGUID"}}, Skipped: 1},
		&events.DirectoryFailed{Run: run, Domain: "corp", Domains: []string{"corp"}, Attempt: 2, Reason: "connection refused", Transient: true, WillRetry: true, RetryIn: "1m0s", MaxAttempts: 3, FailedAt: now},
		&events.DirectoryFailed{Run: run, Domain: "corp", Domains: []string{"corp"}, Attempt: 3, Reason: "attempt 3 refused, nothing read: SAML single sign-on is enabled",
			MaxAttempts: 3, FailedAt: now, Refused: []string{"sso-enabled", "job-disabled"}},
		&events.AccountChanges{Run: run, Domain: "corp", Attempt: 1, Batch: "p1", Changes: []events.AccountChange{
			{Op: events.OpCreate, ExternalID: entry.ID, Entry: &entry, Version: 1},
			{Op: events.OpDeactivate, ExternalID: "x", Reason: events.ReasonDirectoryRemoved, Version: 2},
		}},
		&events.ChangesCompleted{Run: run, Domain: "corp", Domains: []string{"corp"}, Attempt: 1, Outcome: events.OutcomeCompleted, Batches: 3, Planned: counts, Entries: 15},
		&events.SyncCompleted{Run: run, Outcome: events.OutcomeHeld, Reasons: []string{"held"}, FinishedAt: now, Totals: counts,
			Domains: []events.DomainResult{{Domain: "corp", Outcome: events.OutcomeHeld, Attempts: 1, Entries: 15, Counts: counts, Drift: 1, Failed: 2,
				Hold: &events.Hold{Deactivations: 300, ActiveBefore: 1000, Entries: 700, LastGoodEntries: 1000, Reasons: []string{"30% > 10%"}}}}},
		&events.SyncCompleted{Run: heldRun, Outcome: events.OutcomeHeld, Reasons: []string{`domain "lab" held: skipped`}, FinishedAt: now, Totals: counts,
			Domains: []events.DomainResult{{Domain: "corp", Outcome: events.OutcomeCompleted, Attempts: 1, Entries: 15, Counts: counts},
				{Domain: "lab", Outcome: events.OutcomeHeld, Reason: "skipped, not read", HeldBy: "nightly-20261124T101500Z-cd34ef"}}},
		&events.PlanDecided{Run: run, Domain: "corp", Decision: events.DecisionApprove, DecidedBy: "root@host", DecidedAt: now},
		&events.PlanApplied{Run: run, Domain: "corp", Decision: events.DecisionApprove, Counts: counts, At: now},
		&events.AuditRecorded{At: now, Actor: events.Actor{Kind: events.ActorToken, Name: "platform"}, Action: "job.update", Target: "nightly",
			Before: json.RawMessage(`{"name":"nightly","enabled":true}`), After: json.RawMessage(`{"name":"nightly","enabled":false}`)},
		&events.NotificationRequested{ID: "run.held:nightly:corp:r1", Channel: "iam-hook", Kind: events.AlertRunHeld, State: events.AlertFiring,
			Job: "nightly", Domain: "corp", RunID: run.RunID, Title: "held", Text: "the plan deactivates 60 of 198 active accounts", At: now.Format(time.RFC3339)},
		&events.NotificationFailed{ID: "run.held:nightly:corp:r1", Channel: "iam-hook", Kind: events.AlertRunHeld, State: events.AlertFiring,
			Attempt: 3, Error: "webhook iam-hook answered 503 Service Unavailable", RetryIn: "4s", At: now.Format(time.RFC3339)},
		&events.AccountChanged{Seq: 42, Domain: "corp", Change: events.ChangeDeactivated, Fields: []string{"active", "inactive_reason"},
			Reason: events.ReasonDirectoryRemoved, Left: []string{"Staff"}, RunID: run.RunID, Actor: "sync", At: now,
			Account: events.Account{Domain: "corp", ExternalID: entry.ID, Username: "jsmith", LocalName: "jsmith@corp", DN: entry.DN,
				Groups: []string{}, InactiveReason: events.ReasonDirectoryRemoved, DeactivatedBy: "sync",
				CreatedAt: now.Format(time.RFC3339Nano), UpdatedAt: now.Format(time.RFC3339Nano), DeactivatedAt: now.Format(time.RFC3339Nano)}},
	}
}

func TestEveryEventHasASchemaAndEverySchemaAnEvent(t *testing.T) {
	var names []string
	for _, e := range events.All() {
		names = append(names, e.EventName())
	}
	have := schemas.EventSchemaNames()
	for _, n := range names {
		if !slices.Contains(have, n) {
			t.Errorf("event %s has no schema in schemas/events", n)
		}
	}
	for _, h := range have {
		if !slices.Contains(names, h) {
			t.Errorf("schema %s has no event in events.All()", h)
		}
	}
	for _, e := range events.All() {
		if !strings.HasSuffix(e.EventName(), ".v1") {
			t.Errorf("event name %s is not versioned", e.EventName())
		}
	}
}

func TestSampleEventsValidate(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range samples() {
		t.Run(e.EventName(), func(t *testing.T) {
			raw, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			if err := eventschema.ValidateEvent(e.EventName(), raw); err != nil {
				t.Fatal(err)
			}
		})
		seen[e.EventName()] = true
	}
	for _, e := range events.All() {
		if !seen[e.EventName()] {
			t.Errorf("no sample for %s", e.EventName())
		}
	}
}

func TestInvalidEventsAreRefusedWithAReadableReason(t *testing.T) {
	cases := []struct {
		name, event, payload, want string
	}{
		{"missing run id", "sync.requested.v1", `{"job":"j","trigger":"manual","requested_at":"2026-01-01T00:00:00Z"}`, "run_id"},
		{"bad op", "account.changes.v1", `{"run_id":"r","job":"j","trigger":"manual","requested_at":"2026-01-01T00:00:00Z","domain":"corp","attempt":1,"batch":"p1","changes":[{"op":"delete","external_id":"x","version":1}]}`, "/changes/0/op"},
		{"create without entry", "account.changes.v1", `{"run_id":"r","job":"j","trigger":"manual","requested_at":"2026-01-01T00:00:00Z","domain":"corp","attempt":1,"batch":"p1","changes":[{"op":"create","external_id":"x","version":1}]}`, "entry"},
		{"attempt zero", "directory.page.v1", `{"run_id":"r","job":"j","trigger":"manual","requested_at":"2026-01-01T00:00:00Z","domain":"corp","attempt":0,"seq":1,"observed_at":"2026-01-01T00:00:00Z","entries":[]}`, "attempt"},
		{"not json", "sync.completed.v1", `{`, "not JSON"},
		{"held domain without run", "sync.approved.v1", `{"run_id":"r","job":"j","trigger":"manual","requested_at":"2026-01-01T00:00:00Z","domains":["corp"],"requeue":{"enabled":false},"safety":{"max_deactivations":0,"max_deactivation_percent":0,"max_result_drop_percent":0},"groups":{},"held":[{"domain":"lab","reasons":[]}]}`, "run_id"},
		{"unknown refusal", "directory.failed.v1", `{"run_id":"r","job":"j","trigger":"requeue","requested_at":"2026-01-01T00:00:00Z","domain":"corp","domains":["corp"],"attempt":2,"reason":"x","transient":false,"will_retry":false,"pages_read":0,"failed_at":"2026-01-01T00:00:00Z","refused":["no-job-server"]}`, "refused"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := eventschema.ValidateEvent(c.event, []byte(c.payload))
			if err == nil {
				t.Fatal("invalid event accepted")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("reason %q does not mention %q", err, c.want)
			}
		})
	}
}

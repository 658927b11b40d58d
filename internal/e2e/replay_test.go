package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/testenv/slapd"
)

// Event replay: an old page and an old batch of changes delivered again
// after newer ones (with fresh message ids, as after the de-duplication
// window) never bring back an older state.
func TestReplayedOldEventsNeverWin(t *testing.T) {
	t.Parallel()
	openldap := slapd.Start(t, slapd.WithUsers(2))
	sys := Start(t, []Domain{LDAPDomain("lab", openldap)})
	sys.MustCLI("job", "create", "lab-sync", "--all-domains", "--mode", "full")
	first := sys.MustComplete("lab-sync")
	old := ByUsername(t, sys.Accounts("lab"))["user0000001"]

	openldap.Modify(t, "uid=user0000001,"+openldap.UsersDN, "mail", "new@example.org")
	sys.MustComplete("lab-sync")

	nc, err := nats.Connect(sys.NATSURL, sys.NATSOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	run := events.Run{RunID: first.RunID, Job: "lab-sync", Trigger: events.TriggerManual, RequestedAt: first.RequestedAt}
	oldEntry := events.DirectoryEntry{ID: old.ExternalID, DN: old.DN, Username: old.Username, Email: old.Email,
		DisplayName: old.DisplayName, GivenName: old.GivenName, Surname: old.Surname}
	observed := first.RequestedAt.Add(time.Millisecond)
	// An old page (attempt 7 of the first run: a message id never seen).
	page := &events.DirectoryPage{Run: run, Domain: "lab", Attempt: 7, Seq: 1, ObservedAt: observed, Entries: []events.DirectoryEntry{oldEntry}}
	// An old batch of changes.
	batch := &events.AccountChanges{Run: run, Domain: "lab", Attempt: 7, Batch: "p1", Changes: []events.AccountChange{
		{Op: events.OpUpdate, ExternalID: old.ExternalID, Entry: &oldEntry, Fields: []string{"email"}, Version: observed.UnixNano()},
	}}
	for _, ev := range []events.Event{page, batch} {
		body := mustJSON(t, ev)
		if _, err := js.PublishMsg(ctx, &nats.Msg{Subject: events.Subject(ev), Data: body}, jetstream.WithMsgID("replay-"+ev.MessageID())); err != nil {
			t.Fatal(err)
		}
	}
	// Both are processed (the writer reports the stale change), and the
	// account keeps the newer state.
	waitFor(t, "the replayed batch to be handled", 20*time.Second, func() bool {
		r := sys.CLI("run", "show", first.RunID, "--json")
		return r.Err == nil && contains(r.Stdout, `"result":"stale"`)
	})
	if a := ByUsername(t, sys.Accounts("lab"))["user0000001"]; a.Email != "new@example.org" {
		t.Fatalf("a replayed old event won: email %q", a.Email)
	}
	// And a new run finds nothing to do: diff kept the newer state too.
	if sum := sys.MustComplete("lab-sync"); sum.Totals.Updated != 0 {
		t.Fatalf("after the replay, a run updated %d accounts", sum.Totals.Updated)
	}
}

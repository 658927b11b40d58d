package accounts

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/adsync/adsync/events"
)

func openStore(t *testing.T) *Store {
	t.Helper()
	clock := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "accounts.db"), func() time.Time { clock = clock.Add(time.Second); return clock })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func batch(name string, changes ...events.AccountChange) *events.AccountChanges {
	return &events.AccountChanges{Run: events.Run{RunID: "r1", Job: "j"}, Domain: "corp", Attempt: 1, Batch: name, Changes: changes}
}

func entry(id, user string, disabled bool) *events.DirectoryEntry {
	e := &events.DirectoryEntry{ID: id, Username: user, DN: "CN=" + user}
	if disabled {
		e.Disabled, e.DisabledReason = true, events.ReasonDirectoryDisabled
	}
	return e
}

func get(t *testing.T, s *Store, id string) Account {
	t.Helper()
	list, err := s.List(context.Background(), ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range list {
		if a.ExternalID == id {
			return a
		}
	}
	t.Fatalf("no account %s", id)
	return Account{}
}

func TestApplyBatchOnceEvenWhenRedelivered(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	b := batch("p1", events.AccountChange{Op: events.OpCreate, ExternalID: "g1", Entry: entry("g1", "alice", false), Version: 10})
	first, err := s.ApplyBatch(ctx, b.MessageID(), b)
	if err != nil || first.Created != 1 || first.Duplicate {
		t.Fatalf("first apply: %+v %v", first, err)
	}
	again, err := s.ApplyBatch(ctx, b.MessageID(), b)
	if err != nil || !again.Duplicate || again.Created != 0 {
		t.Fatalf("redelivered apply: %+v %v", again, err)
	}
}

func TestOlderChangeNeverOverwritesNewerState(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	newer := batch("p1", events.AccountChange{Op: events.OpCreate, ExternalID: "g1", Entry: &events.DirectoryEntry{ID: "g1", Username: "alice", Email: "new@x"}, Version: 20})
	older := batch("p2", events.AccountChange{Op: events.OpUpdate, ExternalID: "g1", Entry: &events.DirectoryEntry{ID: "g1", Username: "alice", Email: "old@x"}, Version: 10})
	if _, err := s.ApplyBatch(ctx, newer.MessageID(), newer); err != nil {
		t.Fatal(err)
	}
	res, err := s.ApplyBatch(ctx, older.MessageID(), older)
	if err != nil || res.Stale != 1 || res.Updated != 0 {
		t.Fatalf("replayed older batch: %+v %v", res, err)
	}
	if a := get(t, s, "g1"); a.Email != "new@x" {
		t.Fatalf("older change won: %+v", a)
	}
}

func TestDeactivateKeepsTheAccountAndReactivateRestoresIt(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	create := batch("p1",
		events.AccountChange{Op: events.OpCreate, ExternalID: "g1", Entry: entry("g1", "alice", false), Version: 1},
		events.AccountChange{Op: events.OpCreate, ExternalID: "g2", Entry: entry("g2", "bob", false), Version: 1})
	if _, err := s.ApplyBatch(ctx, create.MessageID(), create); err != nil {
		t.Fatal(err)
	}
	gone := batch("r1", events.AccountChange{Op: events.OpDeactivate, ExternalID: "g1", Reason: events.ReasonDirectoryRemoved, Version: 2})
	if res, err := s.ApplyBatch(ctx, gone.MessageID(), gone); err != nil || res.Deactivated != 1 {
		t.Fatalf("deactivate: %+v %v", res, err)
	}
	a := get(t, s, "g1")
	if a.Active || a.InactiveReason != events.ReasonDirectoryRemoved || a.DeactivatedBy != BySync || a.DeactivatedAt == "" || a.Username != "alice" {
		t.Fatalf("deactivated account: %+v", a)
	}
	back := batch("p2", events.AccountChange{Op: events.OpReactivate, ExternalID: "g1", Entry: entry("g1", "alice", false), Reason: events.ReasonDirectoryReturned, Version: 3})
	if res, err := s.ApplyBatch(ctx, back.MessageID(), back); err != nil || res.Reactivated != 1 {
		t.Fatalf("reactivate: %+v %v", res, err)
	}
	if a := get(t, s, "g1"); !a.Active || a.InactiveReason != "" || a.DeactivatedAt != "" {
		t.Fatalf("reactivated account: %+v", a)
	}
}

package accounts

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/adsync/adsync/events"
)

// externalId lookups name the domains held; a domain synced after a
// lookup is found by the next one.
func TestExternalIDLookupFindsADomainAddedSinceTheLastLookup(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "accounts.db"), Options{Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	lookup := func(id string) int {
		t.Helper()
		p, err := s.QueryUsers(ctx, Query{Filter: `externalId eq "` + id + `"`, StartIndex: 1, Count: 10})
		if err != nil {
			t.Fatal(err)
		}
		return p.Total
	}
	if n := lookup("a1"); n != 0 {
		t.Fatalf("empty store: %d users", n)
	}
	for i, domain := range []string{"corp", "lab"} {
		run := events.Run{RunID: "r" + domain, Job: "j"}
		b := &events.AccountChanges{Run: run, Domain: domain, Attempt: 1, Batch: "p1", Changes: []events.AccountChange{create(domain+"-1", "u"+domain, 1)}}
		if _, err := s.Stage(ctx, b.MessageID(), b); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Expect(ctx, &events.ChangesCompleted{Run: run, Domain: domain, Domains: []string{domain}, Attempt: 1,
			Outcome: events.OutcomeCompleted, TotalBatches: 1, Attempts: 1}); err != nil {
			t.Fatal(err)
		}
		if n := lookup(domain + "-1"); n != 1 {
			t.Fatalf("domain %d (%s) synced: externalId eq finds %d users", i+1, domain, n)
		}
	}
	if n := lookup("corp-1"); n != 1 {
		t.Fatalf("the first domain's user: %d", n)
	}
}

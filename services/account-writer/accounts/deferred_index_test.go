package accounts

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// deferredNames are the names of uniqueIndexes and deferredIndexes.
var deferredNames = []string{"accounts_id", "accounts_local_name", "memberships_by_group", "accounts_username", "accounts_local_name_nocase"}

// indexesOf returns which of deferredNames the store has, sorted.
func indexesOf(t *testing.T, s *Store) []string {
	t.Helper()
	rows, err := s.db.QueryContext(context.Background(), `SELECT name FROM sqlite_master WHERE type='index' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		if slices.Contains(deferredNames, n) {
			names = append(names, n)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}

func usernames(t *testing.T, s *Store) []string {
	t.Helper()
	all, err := s.List(context.Background(), ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range all {
		names = append(names, a.Username)
	}
	return names
}

// A store's first sync writes none of the deferred indexes; the lists they
// serve come out the same without them. Built, once however often asked
// for, they answer those queries; a store opened with accounts and
// without them (migrated, or stopped during its first sync or before the
// building) builds them.
func TestDeferredIndexesAreBuiltAfterTheFirstSync(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "accounts.db")
	s, err := Open(ctx, path, Options{Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	p1 := applyNow(batch(run1, "p1", create("g2", "carol", 10), create("g1", "alice", 10), create("g3", "Bob", 10)))
	if _, err := s.Stage(ctx, p1.MessageID(), p1); err != nil {
		t.Fatal(err)
	}
	p2 := applyNow(batch(run1, "p2", create("g4", "dave", 10), create("g5", "erin", 10)))
	if _, err := s.Stage(ctx, p2.MessageID(), p2); err != nil {
		t.Fatal(err)
	}
	if got := indexesOf(t, s); len(got) != 0 {
		t.Fatalf("indexes %v during a store's first sync: it would pay for them row by row", got)
	}
	want := []string{"Bob", "alice", "carol", "dave", "erin"}
	if got := usernames(t, s); !slices.Equal(got, want) {
		t.Fatalf("accounts by name without the index: %v, want %v", got, want)
	}
	// Stopped during the first sync: the keys held in memory are gone.
	s.Close()
	if s, err = Open(ctx, path, Options{Now: time.Now}); err != nil {
		t.Fatal(err)
	}
	if got := indexesOf(t, s); len(got) != len(deferredNames) {
		t.Fatalf("indexes %v after opening a store stopped during its first sync, want %v", got, deferredNames)
	}
	if _, err := s.db.ExecContext(ctx, `DROP INDEX accounts_username; DROP INDEX accounts_local_name_nocase; DROP INDEX memberships_by_group`); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.BuildDeferredIndexes(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := indexesOf(t, s), slices.Sorted(slices.Values(deferredNames)); !slices.Equal(got, want) {
		t.Fatalf("indexes %v after the building, want %v", got, want)
	}
	if got := usernames(t, s); !slices.Equal(got, want) {
		t.Fatalf("accounts by name with the index: %v, want %v", got, want)
	}
	for query, index := range map[string]string{
		`SELECT external_id FROM accounts WHERE domain='corp' ORDER BY domain, username, external_id LIMIT 2`: "accounts_username",
		`SELECT external_id FROM accounts WHERE local_name = 'bob@corp' COLLATE NOCASE`:                       "accounts_local_name_nocase",
		`SELECT account FROM memberships WHERE domain='corp' AND group_id='x'`:                                "memberships_by_group",
		`SELECT id FROM accounts WHERE domain='corp' AND external_id='g1'`:                                    "accounts_id",
		`SELECT id FROM accounts WHERE local_name='bob@corp'`:                                                 "accounts_local_name",
	} {
		var plan []string
		rows, err := s.db.QueryContext(ctx, `EXPLAIN QUERY PLAN `+query)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if !strings.Contains(strings.Join(plan, "; "), index) {
			t.Errorf("%s: plan %q does not use %s", query, plan, index)
		}
	}

	if _, err := s.db.ExecContext(ctx, `DROP INDEX accounts_username; DROP INDEX accounts_local_name_nocase; DROP INDEX accounts_id`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = Open(ctx, path, Options{Now: time.Now}); err != nil {
		t.Fatal(err)
	}
	if got := indexesOf(t, s); len(got) != len(deferredNames) {
		t.Fatalf("indexes %v after opening a store with accounts, want %v", got, deferredNames)
	}
}

package accounts

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/adsync/adsync/events"
)

// A first sync's pages go without the unique indexes while their
// creations meet no account; a creation that might (a local name or an id
// an earlier page took), a change other than a creation, or more keys
// than the bound builds them first, and the page then ends as it would
// with them: a conflict is reported, never a second account.
func TestAFirstSyncBuildsTheUniqueIndexesWhenACreationMightMeetAnAccount(t *testing.T) {
	update := func(id, user string) events.AccountChange {
		c := create(id, user, 20)
		c.Op, c.Fields = events.OpUpdate, []string{"username"}
		return c
	}
	cases := []struct {
		name     string
		maxKeys  int
		second   []events.AccountChange
		built    bool
		accounts []string // usernames, in order
		// failed is the one failed change's id, failedSays its error's gist.
		failed, failedSays string
	}{
		{name: "new ids and names", second: []events.AccountChange{create("g3", "carol", 10), create("g4", "dave", 10)},
			accounts: []string{"alice", "bob", "carol", "dave"}},
		{name: "a local name an earlier page took", second: []events.AccountChange{create("g3", "alice", 10), create("g4", "dave", 10)},
			built: true, accounts: []string{"alice", "bob", "dave"}, failed: "g3", failedSays: "belongs to another account"},
		{name: "an id an earlier page created", second: []events.AccountChange{create("g1", "alice", 10), create("g4", "dave", 10)},
			built: true, accounts: []string{"alice", "bob", "dave"}},
		{name: "an update", second: []events.AccountChange{update("g1", "alicia"), create("g4", "dave", 10)},
			built: true, accounts: []string{"alicia", "bob", "dave"}},
		{name: "more keys than the bound", maxKeys: 6, second: []events.AccountChange{create("g3", "carol", 10), create("g4", "dave", 10)},
			built: true, accounts: []string{"alice", "bob", "carol", "dave"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.maxKeys > 0 {
				defer func(n int) { maxUnindexedKeys = n }(maxUnindexedKeys)
				maxUnindexedKeys = tc.maxKeys
			}
			ctx := context.Background()
			s := openStore(t, "")
			for i, changes := range [][]events.AccountChange{{create("g1", "alice", 10), create("g2", "bob", 10)}, tc.second} {
				p := applyNow(batch(run1, fmt.Sprintf("p%d", i+1), changes...))
				if _, err := s.Stage(ctx, p.MessageID(), p); err != nil {
					t.Fatal(err)
				}
				if got := len(indexesOf(t, s)) > 0; i == 0 && got {
					t.Fatalf("indexes %v after a first page of new accounts", indexesOf(t, s))
				}
			}
			if got := slices.Contains(indexesOf(t, s), "accounts_local_name"); got != tc.built {
				t.Fatalf("unique indexes built: %v, want %v (indexes %v)", got, tc.built, indexesOf(t, s))
			}
			if got := usernames(t, s); !slices.Equal(got, tc.accounts) {
				t.Fatalf("accounts %v, want %v", got, tc.accounts)
			}
			var failed []string
			rows, err := s.db.QueryContext(ctx, `SELECT external_id, error FROM failed_changes ORDER BY external_id`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var id, e string
				if err := rows.Scan(&id, &e); err != nil {
					t.Fatal(err)
				}
				failed = append(failed, id+" "+e)
			}
			rows.Close()
			if tc.failed == "" && len(failed) > 0 ||
				tc.failed != "" && (len(failed) != 1 || !strings.HasPrefix(failed[0], tc.failed+" ") || !strings.Contains(failed[0], tc.failedSays)) {
				t.Fatalf("failed changes %q, want %q saying %q", failed, tc.failed, tc.failedSays)
			}
			// Whatever the way, the store ends with its unique indexes,
			// which its accounts satisfy.
			if err := s.BuildDeferredIndexes(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

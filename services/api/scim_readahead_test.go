package api

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/adsync/adsync/services/account-writer/accounts"
)

// fakeStore pages through total users, recording the queries it answers.
type fakeStore struct {
	total int
	mu    sync.Mutex
	asked []string
}

func (f *fakeStore) fetch(_ context.Context, q accounts.Query) (accounts.UserPage, error) {
	f.mu.Lock()
	f.asked = append(f.asked, fmt.Sprintf("%s@%d", q.Filter, q.StartIndex))
	f.mu.Unlock()
	page := accounts.UserPage{Total: f.total}
	for i := q.StartIndex; i < q.StartIndex+q.Count && i <= f.total; i++ {
		page.Users = append(page.Users, accounts.UserRecord{Account: accounts.Account{LocalName: fmt.Sprintf("u%d", i)}})
	}
	return page, nil
}

func (f *fakeStore) queries() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.asked)
}

// settle waits for the pages being read ahead.
func settle(ra *readAhead) {
	ra.mu.Lock()
	var waiting []*aheadPage
	for _, p := range ra.pending {
		waiting = append(waiting, p)
	}
	ra.mu.Unlock()
	for _, p := range waiting {
		<-p.done
	}
}

func names(p accounts.UserPage) []string {
	var out []string
	for _, u := range p.Users {
		out = append(out, u.LocalName)
	}
	return out
}

// step is a request for the page at start, after the clock moved by advance.
type step struct {
	client  string
	start   int
	advance time.Duration
}

func TestReadAhead(t *testing.T) {
	q := func(filter string, start int) accounts.Query {
		return accounts.Query{Filter: filter, StartIndex: start, Count: 2}
	}
	cases := []struct {
		name        string
		steps       []step
		wantQueries []string // the store's queries, in order
	}{
		{"a client paging through all users gets each next page read ahead",
			[]step{{"a", 1, 0}, {"a", 3, 0}, {"a", 5, 0}},
			[]string{"@1", "@3", "@5"}},
		{"another client does not get the page read ahead for the first",
			[]step{{"a", 1, 0}, {"b", 3, 0}},
			[]string{"@1", "@3", "@3", "@5"}},
		{"a page read ahead too long ago is read again",
			[]step{{"a", 1, 0}, {"a", 3, aheadFresh + time.Millisecond}},
			[]string{"@1", "@3", "@3", "@5"}},
		{"nothing is read past the last page",
			[]step{{"a", 3, 0}, {"a", 5, 0}},
			[]string{"@3", "@5"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			store := &fakeStore{total: 5}
			var mu sync.Mutex
			now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
			clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			ra := newReadAhead(store.fetch, clock)
			for _, s := range c.steps {
				mu.Lock()
				now = now.Add(s.advance)
				mu.Unlock()
				page, err := ra.users(context.Background(), s.client, q("", s.start))
				if err != nil {
					t.Fatal(err)
				}
				var want []string
				for i := s.start; i < s.start+2 && i <= store.total; i++ {
					want = append(want, fmt.Sprintf("u%d", i))
				}
				if !slices.Equal(names(page), want) {
					t.Fatalf("page at %d: %v, want %v", s.start, names(page), want)
				}
				settle(ra)
			}
			if got := store.queries(); !slices.Equal(got, c.wantQueries) {
				t.Fatalf("queries %v, want %v", got, c.wantQueries)
			}
		})
	}
}

// TestReadAheadKeepsFewPages: pages nobody takes are bounded.
func TestReadAheadKeepsFewPages(t *testing.T) {
	store := &fakeStore{total: 1000}
	ra := newReadAhead(store.fetch, time.Now)
	for i := range 3 * aheadMax {
		if _, err := ra.users(context.Background(), fmt.Sprintf("client%d", i), accounts.Query{StartIndex: 1, Count: 10}); err != nil {
			t.Fatal(err)
		}
	}
	ra.mu.Lock()
	defer ra.mu.Unlock()
	if len(ra.pending) > aheadMax {
		t.Fatalf("%d pages read ahead, want at most %d", len(ra.pending), aheadMax)
	}
}

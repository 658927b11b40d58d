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

func (f *fakeStore) fetch(_ context.Context, q accounts.Query) (accounts.SCIMUserPage, error) {
	f.mu.Lock()
	follows := ""
	if q.Follows {
		follows = "f"
	}
	f.asked = append(f.asked, fmt.Sprintf("%s@%d%s", q.Filter, q.StartIndex, follows))
	f.mu.Unlock()
	page := accounts.SCIMUserPage{Total: f.total}
	for i := q.StartIndex; i < q.StartIndex+q.Count && i <= f.total; i++ {
		page.Users = append(page.Users, accounts.SCIMUser{LocalName: fmt.Sprintf("u%d", i)})
	}
	return page, nil
}

// queries are the queries asked, sorted: pages read ahead are asked for
// at once. "@3f" is a page asked for with Follows.
func (f *fakeStore) queries() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Sorted(slices.Values(f.asked))
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

func names(p accounts.SCIMUserPage) []string {
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
		total       int
		steps       []step
		wantQueries []string // the store's queries, sorted
	}{
		{"a client paging through all users gets the next pages read ahead", 5,
			[]step{{"a", 1, 0}, {"a", 3, 0}, {"a", 5, 0}},
			[]string{"@1", "@3f", "@5f"}},
		{"another client does not get the pages read ahead for the first", 5,
			[]step{{"a", 1, 0}, {"b", 3, 0}},
			[]string{"@1", "@3", "@3f", "@5f", "@5f"}},
		{"a page read ahead too long ago is read again", 5,
			[]step{{"a", 1, 0}, {"a", 3, aheadFresh + time.Millisecond}},
			[]string{"@1", "@3", "@3f", "@5f", "@5f"}},
		{"nothing is read past the last page", 5,
			[]step{{"a", 3, 0}, {"a", 5, 0}},
			[]string{"@3", "@5f"}},
		{"pages are read two ahead of the client's request, not further", 100,
			[]step{{"a", 1, 0}},
			[]string{"@1", "@3f", "@5f"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			store := &fakeStore{total: c.total}
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

// TestReadAheadPagingThrough: a client paging through every user gets
// each page right; each page is asked for once, those read ahead with
// Follows (account-writer continues after the page before) and never
// more than aheadPages pages after the client's request.
func TestReadAheadPagingThrough(t *testing.T) {
	const total, count = 200, 2
	var mu sync.Mutex
	at := 0 // the client's request
	asked := map[int]int{}
	var wrong []string
	fetch := func(_ context.Context, q accounts.Query) (accounts.SCIMUserPage, error) {
		mu.Lock()
		asked[q.StartIndex]++
		if q.StartIndex != at && (!q.Follows || q.StartIndex > at+aheadPages*count) {
			wrong = append(wrong, fmt.Sprintf("@%d (follows %v) while the client asks for @%d", q.StartIndex, q.Follows, at))
		}
		mu.Unlock()
		page := accounts.SCIMUserPage{Total: total}
		for i := q.StartIndex; i < q.StartIndex+count && i <= total; i++ {
			page.Users = append(page.Users, accounts.SCIMUser{LocalName: fmt.Sprintf("u%d", i)})
		}
		return page, nil
	}
	ra := newReadAhead(fetch, time.Now)
	for start := 1; start <= total; start += count {
		mu.Lock()
		at = start
		mu.Unlock()
		page, err := ra.users(context.Background(), "a", accounts.Query{StartIndex: start, Count: count})
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{fmt.Sprintf("u%d", start), fmt.Sprintf("u%d", start+1)}; !slices.Equal(names(page), want) {
			t.Fatalf("page at %d: %v, want %v", start, names(page), want)
		}
	}
	settle(ra)
	if len(wrong) > 0 {
		t.Fatalf("pages asked for out of turn: %v", wrong)
	}
	for start, n := range asked {
		if n > 1 {
			t.Errorf("page at %d asked for %d times, want once", start, n)
		}
	}
	if len(asked) != total/count {
		t.Errorf("%d pages asked for, want %d", len(asked), total/count)
	}
}

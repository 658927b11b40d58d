package accounts

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/testenv"
)

// pagingStore is a store of n accounts u00000… with random ids.
func pagingStore(t *testing.T, n int) *Store {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "accounts.db"), Options{Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	newID := testenv.IDOrders[len(testenv.IDOrders)-1].ID
	var changes []events.AccountChange
	for i := range n {
		id := newID(i)
		changes = append(changes, events.AccountChange{Op: events.OpCreate, ExternalID: id, Version: 1,
			Entry: &events.DirectoryEntry{ID: id, DN: fmt.Sprintf("uid=u%05d,dc=x", i), Username: fmt.Sprintf("u%05d", i)}})
	}
	c := &events.AccountChanges{Run: events.Run{RunID: "r1", Job: "j"}, Domain: "corp", Attempt: 1, Batch: "p1", Changes: changes, ApplyNow: true}
	if _, err := s.Stage(ctx, c.MessageID(), c); err != nil {
		t.Fatal(err)
	}
	return s
}

// A page asked for with Follows before the page before it continues after
// that page's last user once it is read; with no page before, it says so
// rather than count through the accounts before it.
func TestSCIMPageFollowsThePageBefore(t *testing.T) {
	ctx := context.Background()
	s := pagingStore(t, 1000)
	usernames := func(p UserPage) []string {
		var out []string
		for _, u := range p.Users {
			out = append(out, u.Username)
		}
		return out
	}
	type result struct {
		page UserPage
		err  error
	}
	second := make(chan result, 1)
	go func() {
		p, err := s.QueryUsers(ctx, Query{StartIndex: 301, Count: 300, Follows: true})
		second <- result{p, err}
	}()
	first, err := s.QueryUsers(ctx, Query{StartIndex: 1, Count: 300})
	if err != nil {
		t.Fatal(err)
	}
	r := <-second
	if r.err != nil {
		t.Fatalf("page at 301 asked for with Follows: %v", r.err)
	}
	got := append(usernames(first), usernames(r.page)...)
	for i, name := range got {
		if want := fmt.Sprintf("u%05d", i); name != want {
			t.Fatalf("user %d is %s, want %s", i+1, name, want)
		}
	}
	if len(got) != 600 {
		t.Fatalf("%d users in two pages, want 600", len(got))
	}
	if _, err := s.QueryUsers(ctx, Query{StartIndex: 701, Count: 300, Follows: true}); !errors.Is(err, ErrPageBeforeNotRead) {
		t.Fatalf("page at 701 with no page before: %v, want %v", err, ErrPageBeforeNotRead)
	}
}

// Paging through users in order continues after the previous page (no
// OFFSET), and gives the same users, each once, as pages asked for out of
// order do.
func TestSCIMPagingContinuesWhereThePreviousPageEnded(t *testing.T) {
	ctx := context.Background()
	s := pagingStore(t, 2500)
	page := func(start, count int) []string {
		p, err := s.QueryUsers(ctx, Query{StartIndex: start, Count: count})
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != 2500 {
			t.Fatalf("total %d", p.Total)
		}
		var names []string
		for _, u := range p.Users {
			names = append(names, u.Username)
		}
		return names
	}
	var inOrder []string
	for start := 1; start <= 2500; start += 300 {
		inOrder = append(inOrder, page(start, 300)...)
	}
	if len(inOrder) != 2500 {
		t.Fatalf("%d users paged", len(inOrder))
	}
	for i, name := range inOrder {
		if want := fmt.Sprintf("u%05d", i); name != want {
			t.Fatalf("user %d is %s, want %s", i+1, name, want)
		}
	}
	// Out of order, and a page size other than the last one's.
	if got := page(901, 5); fmt.Sprint(got) != fmt.Sprint(inOrder[900:905]) {
		t.Fatalf("page at 901: %v, want %v", got, inOrder[900:905])
	}
	if got := page(2498, 10); fmt.Sprint(got) != fmt.Sprint(inOrder[2497:]) {
		t.Fatalf("last page: %v", got)
	}
}

// A SCIM page's accounts are the accounts as List has them, groups
// included (SCIM reads their names from the group references), with a
// filter or without; QuerySCIMUsers gives their SCIM attributes.
func TestSCIMUsersAreTheAccountsListed(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "accounts.db"), Options{Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	group := func(id, name string) events.GroupRef { // ids in another order than names
		return events.GroupRef{ID: id, Name: name, DN: "cn=" + name + ",dc=x"}
	}
	refs := [][]events.GroupRef{nil, {group("g4", "staff")}, {group("g1", "zeta"), group("g3", "alpha"), group("g2", "Mid")}}
	var changes []events.AccountChange
	for n, r := range refs {
		id := fmt.Sprintf("id-%d", n)
		changes = append(changes, events.AccountChange{Op: events.OpCreate, ExternalID: id, Version: 1,
			Entry: &events.DirectoryEntry{ID: id, DN: fmt.Sprintf("uid=u%d,dc=x", n), Username: fmt.Sprintf("u%d", n), GroupRefs: r,
				DisplayName: fmt.Sprintf("User %d", n), GivenName: "User", Surname: fmt.Sprint(n), Email: fmt.Sprintf("u%d@x", n),
				Disabled: n == 1, DisabledReason: map[bool]string{true: "directory-disabled"}[n == 1]}})
	}
	c := &events.AccountChanges{Run: events.Run{RunID: "r1", Job: "j"}, Domain: "corp", Attempt: 1, Batch: "p1", Changes: changes, ApplyNow: true}
	if _, err := s.Stage(ctx, c.MessageID(), c); err != nil {
		t.Fatal(err)
	}
	listed, err := s.List(ctx, ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != 3 || fmt.Sprint(listed[2].Groups) != "[Mid alpha zeta]" || listed[0].Groups == nil {
		t.Fatalf("listed %+v", listed)
	}
	for _, filter := range []string{"", `userName sw "u"`} {
		p, err := s.QueryUsers(ctx, Query{Filter: filter, StartIndex: 1, Count: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Users) != len(listed) {
			t.Fatalf("filter %q: %d users, want %d", filter, len(p.Users), len(listed))
		}
		for i, u := range p.Users {
			if !reflect.DeepEqual(u.Account, listed[i]) {
				t.Errorf("filter %q: user %d is\n%+v\nlisted as\n%+v", filter, i+1, u.Account, listed[i])
			}
			if len(u.GroupRefs) != len(refs[i]) {
				t.Errorf("filter %q: user %d has %d group references, want %d", filter, i+1, len(u.GroupRefs), len(refs[i]))
			}
		}
		// SCIM's users: the same accounts, SCIM's attributes, the same
		// group references.
		sp, err := s.QuerySCIMUsers(ctx, Query{Filter: filter, StartIndex: 1, Count: 10})
		if err != nil {
			t.Fatal(err)
		}
		if sp.Total != p.Total || len(sp.Users) != len(p.Users) {
			t.Fatalf("filter %q: SCIM users %d of %d, want %d of %d", filter, len(sp.Users), sp.Total, len(p.Users), p.Total)
		}
		for i, raw := range sp.Users {
			var u SCIMUser
			if err := json.Unmarshal(raw, &u); err != nil {
				t.Fatalf("filter %q: SCIM user %d: %v: %s", filter, i+1, err, raw)
			}
			a := listed[i]
			want := SCIMUser{Domain: a.Domain, ExternalID: a.ExternalID, LocalName: a.LocalName, DisplayName: a.DisplayName,
				GivenName: a.GivenName, Surname: a.Surname, Email: a.Email, Active: a.Active, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
			got := u
			got.GroupRefs = nil
			if !reflect.DeepEqual(got, want) {
				t.Errorf("filter %q: SCIM user %d is\n%+v\nlisted as\n%+v", filter, i+1, got, want)
			}
			groups, err := u.Groups()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(groups, p.Users[i].GroupRefs) && (len(groups) > 0 || len(p.Users[i].GroupRefs) > 0) {
				t.Errorf("filter %q: SCIM user %d's groups %v, want %v", filter, i+1, groups, p.Users[i].GroupRefs)
			}
		}
	}
}

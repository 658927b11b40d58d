package ldapdir

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/testenv/slapd"
)

// The departures of a delta read come from the users changed anywhere
// (ChangedUsers), which the reader gathers while the users are read. Past
// the number it may hold, the search stops, and is done again on the same
// connection keeping only the users the read did not return: OpenLDAP
// pages one search per connection, so the first must have been ended
// properly. A changed user outside the base DN has left the scope; those
// the read returned have not.
func TestChangedUsersHeldOrSearchedAgain(t *testing.T) {
	t.Parallel()
	s := slapd.Start(t)
	var inBase []string
	for _, uid := range []string{"ann", "ben", "cid"} {
		inBase = append(inBase, s.EntryUUID(t, s.AddUser(t, slapd.User{UID: uid})))
	}
	elsewhere := s.AddOU(t, "elsewhere")
	gone := "uid=dee," + elsewhere
	s.AddEntry(t, gone, map[string][]string{"objectClass": {"top", "person", "organizationalPerson", "inetOrgPerson"},
		"uid": {"dee"}, "cn": {"dee"}, "sn": {"dee"}})
	goneID := s.EntryUUID(t, gone)

	cfg := ldapConfig(s)
	cfg.BaseDN, cfg.PageSize = s.UsersDN, 1 // a page a user: the search stops between pages
	c := dial(t, cfg)
	c.ChangedSince(events.Watermark{Kind: events.WatermarkTimestamp, Timestamp: time.Now().Add(-time.Hour)})
	ctx := context.Background()
	all := func(string) bool { return true }
	if got, err := c.ChangedUsers(ctx, all, 2); !errors.Is(err, ErrTooManyChanged) {
		t.Fatalf("4 changed users, at most 2 held: %d users, %v; want ErrTooManyChanged", len(got), err)
	}
	read := func(id string) bool { return slices.Contains(inBase[:2], id) } // the read returned two of them
	changed, err := c.ChangedUsers(ctx, func(id string) bool { return !read(id) }, 0)
	if err != nil {
		t.Fatalf("the search again, on the same connection: %v", err)
	}
	var ids []string
	for _, d := range changed {
		ids = append(ids, d.ID)
	}
	slices.Sort(ids)
	want := []string{inBase[2], goneID}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Fatalf("changed users the read did not return: %v, want %v", ids, want)
	}
	left, err := c.LeftScope(ctx, changed, read)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || left[0].ID != goneID || left[0].DN != gone {
		t.Fatalf("departures %+v, want only %s (%s)", left, gone, goneID)
	}
}

package ldapdir

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/adsync/adsync/internal/testenv/slapd"
)

// Generic LDAP: the groups changed since a watermark are those whose
// modifyTimestamp is at or after it (one-second precision), whatever
// changed them (here, a group nested in another).
func TestGroupsChangedSinceOnOpenLDAP(t *testing.T) {
	t.Parallel()
	s := slapd.Start(t)
	u := s.AddUser(t, slapd.User{UID: "nora", CN: "Nora"})
	leaf := s.AddGroup(t, "leaf", u)
	other := s.AddGroup(t, "other", u)
	s.AddGroup(t, "quiet", u)
	// The watermark's second must be after the groups' creation.
	created := time.Now()
	deadline := created.Add(5 * time.Second)
	for time.Now().Truncate(time.Second).Before(created.Add(time.Second)) {
		if time.Now().After(deadline) {
			t.Fatal("the clock did not move")
		}
		time.Sleep(20 * time.Millisecond)
	}
	c := dial(t, ldapConfig(s))
	ctx := context.Background()
	mark, err := c.Mark(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if changed, err := c.GroupsChangedSince(ctx, mark); err != nil || len(changed) != 0 {
		t.Fatalf("before any change: %v, %v", changed, err)
	}
	s.AddMember(t, other, leaf)
	changed, err := c.GroupsChangedSince(ctx, mark)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(changed, other) {
		t.Fatalf("changed groups %v, want %s among them", changed, other)
	}
	for _, dn := range changed {
		if dn != other && dn != leaf { // leaf: its memberOf, if the overlay stamps it
			t.Fatalf("changed groups %v: %s did not change", changed, dn)
		}
	}
}

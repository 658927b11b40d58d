package ldapdir

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/testenv/samba"
)

// TestDeltaReadLooksForExpiredUsersOnlyOnceOneMayHaveExpired: a read
// learns the earliest expiry ahead among the active users; a delta read
// looks for expired users only once that time has passed, and then
// delivers those that expired, not those that expire later, and learns the
// next expiry again.
func TestDeltaReadLooksForExpiredUsersOnlyOnceOneMayHaveExpired(t *testing.T) {
	t.Parallel()
	dc := samba.Start(t)
	ou := dc.NewOU(t)
	sfx := ouSuffix(ou)
	t0 := time.Now().UTC().Truncate(time.Second)
	soon, later := t0.Add(time.Hour), t0.Add(30*24*time.Hour)
	users := []samba.User{
		{CN: "Soon", SAM: "soon-" + sfx, AccountExpires: soon},
		{CN: "Later", SAM: "later-" + sfx, AccountExpires: later},
		{CN: "Never", SAM: "never-" + sfx},
		{CN: "Past", SAM: "past-" + sfx, AccountExpires: t0.Add(-48 * time.Hour)},
		// Disabled in the directory: its expiry counts for nothing.
		{CN: "Off", SAM: "off-" + sfx, Disabled: true, AccountExpires: t0.Add(30 * time.Minute)},
	}
	dns := dc.AddUsers(t, ou, users...)
	ctx := context.Background()
	at := func(now time.Time) Config {
		cfg := adConfig(dc, ou)
		cfg.Now = func() time.Time { return now }
		return cfg
	}
	read := func(t *testing.T, now time.Time, since *events.Watermark) ([]string, Stats) {
		t.Helper()
		c := dial(t, at(now))
		if since != nil {
			c.ChangedSince(*since)
		}
		var got []string
		st, err := c.SearchUsers(ctx, func(page []events.DirectoryEntry) error {
			for _, e := range page {
				got = append(got, e.Username[:len(e.Username)-len(sfx)-1])
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		return got, st
	}
	mark, err := dial(t, at(t0)).Mark(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	mark.TakenAt = t0

	got, st := read(t, t0, nil)
	if len(got) != len(users) || !st.ExpiriesKnown || !st.NextExpiry.Equal(soon) {
		t.Fatalf("full read: %v, next expiry known %t: %v; want %d users and %v", got, st.ExpiriesKnown, st.NextExpiry, len(users), soon)
	}
	mark.ExpiriesKnown, mark.NextExpiry = st.ExpiriesKnown, st.NextExpiry

	tests := []struct {
		name     string
		now      time.Time
		mark     func(w *events.Watermark)
		want     []string
		wantNext time.Time
	}{
		{"before the next expiry: nothing changed, nothing read", t0.Add(10 * time.Minute), nil, nil, soon},
		{"after it: the expired user, not the later one", t0.Add(2 * time.Hour), nil, []string{"soon"}, later},
		{"an older watermark: looks", t0.Add(10 * time.Minute), func(w *events.Watermark) { w.ExpiriesKnown, w.NextExpiry = false, time.Time{} }, nil, soon},
		// The watermark is trusted: one that says nothing expires before
		// a time still ahead makes the read not look.
		{"a watermark that says the next expiry is ahead", t0.Add(2 * time.Hour), func(w *events.Watermark) { w.NextExpiry = t0.Add(3 * time.Hour) }, nil, t0.Add(3 * time.Hour)},
		{"a watermark that says none expires", t0.Add(2 * time.Hour), func(w *events.Watermark) { w.NextExpiry = time.Time{} }, nil, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := mark
			if tt.mark != nil {
				tt.mark(&w)
			}
			got, st := read(t, tt.now, &w)
			if !slices.Equal(got, tt.want) || st.Entries != len(tt.want) {
				t.Fatalf("read %v (%d entries), want %v", got, st.Entries, tt.want)
			}
			if !st.ExpiriesKnown || !st.NextExpiry.Equal(tt.wantNext) {
				t.Fatalf("next expiry known %t: %v, want %v", st.ExpiriesKnown, st.NextExpiry, tt.wantNext)
			}
		})
	}

	// A changed user's expiry counts too, whether the read looks or not.
	sooner := t0.Add(20 * time.Minute)
	dc.Modify(t, dns[2], "accountExpires", fileTimeString(sooner))
	for _, now := range []time.Time{t0.Add(10 * time.Minute), t0.Add(2 * time.Hour)} {
		got, st := read(t, now, &mark)
		wantNext := sooner
		want := []string{"never"}
		if now.After(sooner) {
			wantNext, want = later, []string{"never", "soon"} // "never" expired as it changed
		}
		if !slices.Equal(got, want) || !st.NextExpiry.Equal(wantNext) {
			t.Fatalf("at %v after a changed expiry: read %v, next expiry %v; want %v, %v", now.Sub(t0), got, st.NextExpiry, want, wantNext)
		}
	}
}

// fileTimeString formats t as accountExpires.
func fileTimeString(t time.Time) string {
	return strconv.FormatInt(fileTime(t), 10)
}

package ldapdir

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/testenv/samba"
)

// TestDeltaReadOnActiveDirectory: a delta read returns exactly the users
// changed since the watermark, whether they fit in one page (asked for
// whole, without paging) or not (the server says sizeLimitExceeded, and
// the read starts again, paged).
func TestDeltaReadOnActiveDirectory(t *testing.T) {
	t.Parallel()
	dc := samba.Start(t)
	ou := dc.NewOU(t)
	sfx := ouSuffix(ou)
	var users []samba.User
	for i := range 12 {
		users = append(users, samba.User{CN: fmt.Sprintf("Delta %02d", i), SAM: fmt.Sprintf("d%02d-%s", i, sfx)})
	}
	dns := dc.AddUsers(t, ou, users...)
	ctx := context.Background()
	mark, err := dial(t, adConfig(dc, ou)).Mark(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := 0; i < 12; i += 2 { // 6 of the 12
		dc.Modify(t, dns[i], "displayName", "changed "+users[i].CN)
		want = append(want, users[i].SAM)
	}
	for _, tt := range []struct {
		pageSize, wantPages int
	}{
		{1000, 1}, // whole
		{4, 2},    // more than a page: paged
	} {
		t.Run(fmt.Sprintf("page size %d", tt.pageSize), func(t *testing.T) {
			cfg := adConfig(dc, ou)
			cfg.PageSize = tt.pageSize
			c := dial(t, cfg)
			c.ChangedSince(mark)
			var got []string
			st, err := c.SearchUsers(ctx, func(page []events.DirectoryEntry) error {
				for _, e := range page {
					got = append(got, e.Username)
					if e.DisplayName != "changed "+e.DN[3:11] {
						t.Errorf("%s: display name %q", e.Username, e.DisplayName)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) || st.Entries != len(want) || st.Pages != tt.wantPages {
				t.Fatalf("read %v in %d pages (%+v), want %v in %d", got, st.Pages, st, want, tt.wantPages)
			}
		})
	}
}

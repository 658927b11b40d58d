package ldapdir

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/testenv/slapd"
)

// TestReadLargeLDAP streams a large slapd directory and checks that memory
// stays flat. It needs ADSYNC_TESTENV_LARGE=<users> (e.g. 1000000).
func TestReadLargeLDAP(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("ADSYNC_TESTENV_LARGE"))
	if n <= 0 {
		t.Skip("set ADSYNC_TESTENV_LARGE=<users> to read a large slapd directory")
	}
	start := time.Now()
	s := slapd.Start(t, slapd.WithUsers(n))
	t.Logf("slapadd and start of %d users: %v", n, time.Since(start).Round(time.Millisecond))

	c := dial(t, ldapConfig(s))
	runtime.GC()
	var ms runtime.MemStats
	var peak uint64
	start = time.Now()
	st, err := c.SearchUsers(context.Background(), func(page []events.DirectoryEntry) error {
		if len(page) == 0 || page[0].ID == "" {
			t.Error("bad page")
		}
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
		return nil
	})
	d := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("read %d users in %d pages in %v (%.0f users/s), peak heap in use %d MiB",
		st.Entries, st.Pages, d.Round(time.Millisecond), float64(st.Entries)/d.Seconds(), peak>>20)
	if st.Entries != n {
		t.Fatalf("read %d users, want %d", st.Entries, n)
	}
	if peak > 256<<20 {
		t.Fatalf("peak heap %d MiB: the read is not streaming", peak>>20)
	}
}

package accounts

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/adsync/adsync/internal/testenv/older"
)

// meta.lastModified filters compare times as times, for accounts written
// before migration 0012 (trimmed fractions, which do not sort as text) and
// after it alike.
func TestLastModifiedFiltersCompareTimesWrittenBeforeAndAfterTheUpgrade(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "accounts.db")
	old := older.Store(t, path, "accounts", "0012")
	for id, at := range map[string]string{"whole": "2026-11-01T00:00:00Z", "half": "2026-11-01T00:00:00.5Z",
		"nano": "2026-11-01T00:00:00.123456789Z", "later": "2026-11-01T00:00:01Z"} {
		if _, err := old.ExecContext(ctx, `INSERT INTO accounts (domain, external_id, username, local_name, active, version, created_at, updated_at)
			VALUES ('corp', ?, ?, ?, 1, 1, ?, ?)`, id, id, id+"@corp", at, at); err != nil {
			t.Fatal(err)
		}
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 11, 1, 0, 0, 0, 250_000_000, time.UTC)
	s, err := Open(ctx, path, Options{Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	b := batch(run1, "p1", create("quarter", "quarter", 1))
	if _, err := s.Stage(ctx, b.MessageID(), b); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Expect(ctx, done(run1, 1)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		filter string
		want   []string
	}{
		{`meta.lastModified gt "2026-11-01T00:00:00.2Z"`, []string{"half", "later", "quarter"}},
		{`meta.lastModified ge "2026-11-01T00:00:00.5Z"`, []string{"half", "later"}},
		{`meta.lastModified lt "2026-11-01T00:00:00.2Z"`, []string{"nano", "whole"}},
		{`meta.lastModified le "2026-11-01T00:00:00.123456789Z"`, []string{"nano", "whole"}},
		{`meta.lastModified eq "2026-11-01T00:00:00.500Z"`, []string{"half"}},
		{`meta.lastModified eq "2026-11-01T01:00:00.5+01:00"`, []string{"half"}},
		{`meta.lastModified gt "2026-11-01T00:00:01Z"`, nil},
		{`meta.created lt "2026-11-01T00:00:00.3Z"`, []string{"nano", "quarter", "whole"}},
	} {
		p, err := s.QueryUsers(ctx, Query{Filter: c.filter, StartIndex: 1, Count: 10})
		if err != nil {
			t.Fatalf("%s: %v", c.filter, err)
		}
		var got []string
		for _, u := range p.Users {
			got = append(got, u.Username)
		}
		slices.Sort(got)
		if !slices.Equal(got, c.want) || p.Total != len(c.want) {
			t.Errorf("%s: %v (total %d), want %v", c.filter, got, p.Total, c.want)
		}
	}
}

package sqlite

import (
	"context"
	"strings"
	"testing"
)

// BuildIndexes runs its statements with the smaller cache, names the one
// that failed, and sets the connection's cache back either way.
func TestBuildIndexesSetsTheCacheBack(t *testing.T) {
	ctx := context.Background()
	db := openStatementsDB(t)
	for k := range 10 {
		insertIn(t, db, k, true) // every row has v = "v"
	}
	// What the cache was while the statements ran.
	const seen = `CREATE TABLE IF NOT EXISTS seen AS SELECT cache_size FROM pragma_cache_size()`
	for _, tc := range []struct {
		query, fails string
	}{
		{query: `CREATE INDEX t_v ON t (v)`},
		{query: `CREATE UNIQUE INDEX t_v_unique ON t (v)`, fails: "t_v_unique"},
	} {
		err := db.BuildIndexes(ctx, seen, tc.query)
		if tc.fails == "" && err != nil || tc.fails != "" && (err == nil || !strings.Contains(err.Error(), tc.fails)) {
			t.Fatalf("%s: error %v, want one naming %q", tc.query, err, tc.fails)
		}
		var during, after int
		if err := db.QueryRowContext(ctx, `SELECT cache_size FROM seen`).Scan(&during); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&after); err != nil {
			t.Fatal(err)
		}
		if during != -buildCacheKiB || after != -cacheKiB {
			t.Fatalf("%s: cache_size %d while building and %d after, want %d and %d", tc.query, during, after, -buildCacheKiB, -cacheKiB)
		}
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type='index' AND name IN ('t_v', 't_v_unique')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%d of the indexes exist, want t_v only", n)
	}
}

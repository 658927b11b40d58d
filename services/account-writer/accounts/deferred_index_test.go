package accounts

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// The deferred index is built once, and building it again is a no-op.
func TestDeferredIndexesAreBuiltOnce(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "accounts.db"), Options{Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	has := func() bool {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type='index' AND name='memberships_by_group'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	if has() {
		t.Fatal("a new store has the deferred index: first syncs would pay for it")
	}
	for range 2 {
		if err := s.BuildDeferredIndexes(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if !has() {
		t.Fatal("no index of memberships by group")
	}
}

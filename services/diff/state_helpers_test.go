package diff

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// openState opens diff's state at path (a new one when path is ""),
// closed when the test ends.
func openState(t *testing.T, path string) *State {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "diff.db")
	}
	st, err := OpenState(context.Background(), path, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

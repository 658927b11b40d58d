package diff

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/adsync/adsync/events"
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

// putNew records for run a new, active entry of corp with id (its username
// too), observed at 1.
func putNew(tx *Tx, runID, id string) error {
	e := events.DirectoryEntry{ID: id, Username: id}
	hash, raw := Hash(e)
	return tx.Put(runID, "corp", Seen{Entry: e, Hash: hash, Active: true, Present: true, ObservedAt: 1}, raw, nil, nil)
}

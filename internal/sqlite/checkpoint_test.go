package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// TestCheckpointsInTheBackground: what a transaction wrote reaches the
// database file without the writer checkpointing (its threshold is far
// above what is written here), and Close ends the background checkpoints.
func TestCheckpointsInTheBackground(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := Open(ctx, path, fstest.MapFS{"0001_t.sql": {Data: []byte(`CREATE TABLE t (v TEXT NOT NULL);`)}})
	if err != nil {
		t.Fatal(err)
	}
	size := func(p string) int64 {
		fi, err := os.Stat(p)
		if err != nil {
			return 0
		}
		return fi.Size()
	}
	before := size(path)
	row := strings.Repeat("x", 4000)
	for range 4 {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for range 500 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO t (v) VALUES (?)`, row); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	if wal := size(path + "-wal"); wal < 6<<20 {
		t.Fatalf("the log holds %d bytes after writing 8 MB", wal)
	}
	deadline := time.Now().Add(10 * time.Second)
	for size(path) < before+6<<20 {
		if time.Now().After(deadline) {
			t.Fatalf("database file %d bytes, log %d bytes: not checkpointed in the background", size(path), size(path+"-wal"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

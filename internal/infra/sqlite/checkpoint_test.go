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

// The background checkpoints once commits have stopped for a look, or
// while they go on once the log passed busyLogBytes.
func TestCheckpointDue(t *testing.T) {
	for _, tt := range []struct {
		name      string
		committed bool
		logBytes  int64
		want      bool
	}{
		{"quiet", false, 10 << 20, true},
		{"quiet, empty log", false, 0, true},
		{"commits going on", true, 10 << 20, false},
		{"commits going on, the log past its bound", true, busyLogBytes + 1, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkpointDue(tt.committed, tt.logBytes); got != tt.want {
				t.Fatalf("checkpointDue(%v, %d) = %v, want %v", tt.committed, tt.logBytes, got, tt.want)
			}
		})
	}
}

// The background sees the services' commits: data_version moves when the
// database's own connection commits, and only then.
func TestTheBackgroundSeesCommits(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "t.db"), fstest.MapFS{"0001_t.sql": {Data: []byte(`CREATE TABLE t (v TEXT NOT NULL);`)}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v, _ := db.ckpt.committedSince(-1)
	if _, committed := db.ckpt.committedSince(v); committed {
		t.Fatal("a commit seen where there was none")
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO t (v) VALUES ('x')`); err != nil {
		t.Fatal(err)
	}
	v2, committed := db.ckpt.committedSince(v)
	if !committed {
		t.Fatal("the commit was not seen")
	}
	if _, committed := db.ckpt.committedSince(v2); committed {
		t.Fatal("the same commit seen twice")
	}
}

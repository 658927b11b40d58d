package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// deletedFiles counts the files this process holds open that have no
// name any more: SQLite's temporary files (a statement journal past
// 64 KiB among them) are such files.
func deletedFiles(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	n := 0
	for _, fd := range fds {
		if link, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && strings.HasSuffix(link, "(deleted)") {
			n++
		}
	}
	return n
}

// rewriteInSavepoint rewrites every row of t inside a savepoint, as
// createChunk does: each page's original goes to the statement journal,
// about 1 MB of it, and reports the deleted files open meanwhile.
func rewriteInSavepoint(t *testing.T, ctx context.Context, tx *sql.Tx, round int) int {
	t.Helper()
	if _, err := tx.ExecContext(ctx, `SAVEPOINT s`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE t SET v = printf('%d %s', ?, v)`, round); err != nil {
		t.Fatal(err)
	}
	open := deletedFiles(t)
	if _, err := tx.ExecContext(ctx, `RELEASE s`); err != nil {
		t.Fatal(err)
	}
	return open
}

const insertNew = `INSERT INTO t (k, v) VALUES (?, 'new')`

func tempStore(t *testing.T, db *DB) int {
	t.Helper()
	var ts int
	if err := db.QueryRowContext(context.Background(), `PRAGMA temp_store`).Scan(&ts); err != nil {
		t.Fatal(err)
	}
	return ts
}

// A transaction with its journal in memory writes no temporary file where
// an ordinary one does, commits what fn wrote or nothing if fn fails, and
// leaves the connection as it was (temp_store back to the default, the
// statements it prepared kept).
func TestJournalInMemoryWritesNoTemporaryFile(t *testing.T) {
	ctx := context.Background()
	db := openStatementsDB(t)
	for k := range 2000 {
		insertIn(t, db, k, true)
	}
	if _, err := db.ExecContext(ctx, `UPDATE t SET v = printf('%0500d', k)`); err != nil {
		t.Fatal(err)
	}
	before := deletedFiles(t)

	// The ordinary transaction: its journal spills to a file (the check
	// can fail).
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if open := rewriteInSavepoint(t, ctx, tx, 1); open <= before {
		t.Fatalf("an ordinary transaction held %d deleted files, %d before: the journal did not spill, so this test shows nothing", open, before)
	}
	if err := db.Commit(ctx, tx); err != nil {
		t.Fatal(err)
	}

	for round, fail := range map[int]bool{2: false, 3: true} {
		t.Run(fmt.Sprintf("fails=%v", fail), func(t *testing.T) {
			boom := errors.New("boom")
			committed, err := db.InTxJournalInMemory(ctx, func(tx *sql.Tx) error {
				if open := rewriteInSavepoint(t, ctx, tx, round); open != before {
					t.Errorf("%d deleted files open in the transaction, %d before", open, before)
				}
				st, err := db.Stmt(ctx, tx, insertNew)
				if err != nil {
					return err
				}
				defer st.Close()
				if _, err := st.ExecContext(ctx, 5000+round); err != nil {
					return err
				}
				if fail {
					return boom
				}
				return nil
			})
			if fail != errors.Is(err, boom) || !fail && err != nil {
				t.Fatalf("InTxJournalInMemory: %v", err)
			}
			if committed == fail {
				t.Fatalf("committed = %v for a transaction whose fn failed = %v", committed, fail)
			}
			var n int
			if err := db.QueryRowContext(ctx, `SELECT count(*) FROM t WHERE k = ? OR v LIKE ?`, 5000+round, fmt.Sprintf("%d %%", round)).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int{false: 2001, true: 0}[fail]; n != want {
				t.Fatalf("%d rows written by the transaction, want %d", n, want)
			}
			if ts := tempStore(t, db); ts != 0 {
				t.Fatalf("temp_store %d after the transaction, want 0 (the default)", ts)
			}
			if !fail && !kept(db, insertNew) {
				t.Fatal("the statement the transaction prepared was not kept")
			}
		})
	}
}

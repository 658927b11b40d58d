package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"
)

func openStatementsDB(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "t.db"), fstest.MapFS{"0001_t.sql": {Data: []byte(
		`CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL);`)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

const insertT = `INSERT INTO t (k, v) VALUES (?, ?)`

// insertIn inserts (k, v) in a transaction of db with Stmt, and commits
// it (db.Commit) or rolls it back.
func insertIn(t *testing.T, db *DB, k int, commit bool) {
	t.Helper()
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := db.Stmt(ctx, tx, insertT)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ExecContext(ctx, k, "v"); err != nil {
		t.Fatal(err)
	}
	st.Close() // a kept statement stays open for the next transaction
	if !commit {
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		return
	}
	if err := db.Commit(ctx, tx); err != nil {
		t.Fatal(err)
	}
}

func kept(db *DB, query string) bool {
	db.stmts.mu.Lock()
	defer db.stmts.mu.Unlock()
	return db.stmts.ready[query] != nil
}

func rowsOf(t *testing.T, db *DB) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM t`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestStatementsAreKeptAfterACommit: a statement a transaction prepared is
// kept once it commits, and the next transactions run it as kept.
func TestStatementsAreKeptAfterACommit(t *testing.T) {
	db := openStatementsDB(t)
	insertIn(t, db, 1, false)
	if kept(db, insertT) {
		t.Fatal("kept after a rollback, before any commit")
	}
	insertIn(t, db, 2, true)
	if !kept(db, insertT) {
		t.Fatal("not kept after a commit")
	}
	for k := 3; k <= 5; k++ {
		insertIn(t, db, k, true)
	}
	insertIn(t, db, 6, false)
	if got := rowsOf(t, db); got != 4 {
		t.Errorf("%d rows, want 4 (2 to 5; 1 and 6 rolled back)", got)
	}
}

// TestKeepingDoesNotHoldUpATransaction: keeping waits for the one
// connection while another transaction holds it, and that transaction
// still gets its statements meanwhile.
func TestKeepingDoesNotHoldUpATransaction(t *testing.T) {
	db := openStatementsDB(t)
	ctx := context.Background()
	insertIn(t, db, 1, false) // wanted, not kept yet
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	waits := db.Stats().WaitCount
	kept := make(chan struct{})
	go func() {
		db.stmts.keep(ctx)
		close(kept)
	}()
	for deadline := time.Now().Add(10 * time.Second); db.Stats().WaitCount == waits; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("keep never waited for the connection")
		}
	}
	got := make(chan error, 1)
	go func() {
		st, err := db.Stmt(ctx, tx, `SELECT count(*) FROM t`)
		if err == nil {
			st.Close()
		}
		got <- err
	}()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		tx.Rollback() // lets keep end
		t.Fatal("Stmt in the transaction waited for keep, which waits for the transaction")
	}
	if err := db.Commit(ctx, tx); err != nil {
		t.Fatal(err)
	}
	<-kept
}

// TestInsertsRunKeptStatements: an Inserts of a later transaction runs the
// statements an earlier one kept, with the same rows written.
func TestInsertsRunKeptStatements(t *testing.T) {
	db := openStatementsDB(t)
	ctx := context.Background()
	ins := RowsInsert{Head: `INSERT INTO t (k, v) VALUES `, Row: `($0, ?1)`, Shared: 1, Per: 1}
	for i := range 3 {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		s := db.NewInserts(ctx, tx)
		rows := make([][]any, RowsPerStatement+1)
		for j := range rows {
			rows[j] = []any{i*1000 + j}
		}
		n, err := s.Insert(&ins, []any{"v"}, rows)
		s.Close()
		if err != nil || n != len(rows) {
			t.Fatalf("transaction %d: Insert = %d, %v; want %d", i, n, err, len(rows))
		}
		if err := db.Commit(ctx, tx); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{ins.text(RowsPerStatement), ins.text(1)} {
			if !kept(db, q) {
				t.Fatalf("transaction %d: a statement of %d bytes not kept", i, len(q))
			}
		}
	}
	if got := rowsOf(t, db); got != 3*(RowsPerStatement+1) {
		t.Errorf("%d rows, want %d", got, 3*(RowsPerStatement+1))
	}
}

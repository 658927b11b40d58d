package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
)

// InTxJournalInMemory runs fn in a write transaction whose statement
// journal stays in memory, and commits it when fn returns nil. committed
// says whether it did, even if setting the connection back then failed.
//
// Inside a transaction, SQLite keeps the original of each page that a
// statement or savepoint changes, to undo it alone. Past 64 KiB that
// journal goes to a temporary file. A 64-row insert of accounts with
// random ids changes a page of its index per row, so the account-writer
// wrote more to that file than to its log: 4.7 KB against 1.8 KB per
// account, and half its write calls (figures in docs/performance.md).
//
// Only for transactions that change a bounded number of pages per
// statement, such as a page of a first sync: the journal of one statement
// is as large as the pages it changes. SQLite takes the setting
// (temp_store) when the transaction begins; it is set back on the
// connection once the transaction ends, so that sorts (building an index)
// keep spilling to disk.
func (db *DB) InTxJournalInMemory(ctx context.Context, fn func(*sql.Tx) error) (committed bool, err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("begin: %w", err)
	}
	released := false
	release := func() error {
		if released {
			return nil
		}
		released = true
		if _, rerr := conn.ExecContext(ctx, `PRAGMA temp_store=DEFAULT`); rerr != nil {
			// Not back to the default: the connection is closed, and
			// the next one opens with it.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			conn.Close()
			return fmt.Errorf("set temp_store back: %w", rerr)
		}
		return conn.Close()
	}
	defer func() {
		if rerr := release(); err == nil && rerr != nil {
			err = rerr
		}
	}()
	if _, err := conn.ExecContext(ctx, `PRAGMA temp_store=MEMORY`); err != nil {
		return false, fmt.Errorf("begin: %w", err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("commit: %w", err)
	}
	// The one connection goes back to the pool before keep prepares on it.
	if err := release(); err != nil {
		return true, err
	}
	db.stmts.keep(context.WithoutCancel(ctx))
	return true, nil
}

package sqlite

import (
	"context"
	"database/sql"
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
	err = db.withPragma(ctx, `PRAGMA temp_store=MEMORY`, `PRAGMA temp_store=DEFAULT`, func(conn *sql.Conn) error {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		if err := fn(tx); err != nil {
			_ = tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		committed = true
		return nil
	})
	if committed && err == nil {
		// After the one connection went back to the pool: keep
		// prepares on it.
		db.stmts.keep(context.WithoutCancel(ctx))
	}
	return committed, err
}

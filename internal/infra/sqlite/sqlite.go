// Package sqlite opens a service's SQLite database (mattn/go-sqlite3) in WAL
// mode and applies its embedded migrations, each in its own transaction.
package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// DB is a service's database: one connection for its transactions, the
// statements they prepared kept for the next ones (statements.go), and
// background checkpoints (checkpoint.go). Reader is a pool of read-only
// connections for queries that need no transaction (the API's): in WAL
// mode they read the last commit while the writer writes, instead of
// queueing behind a first sync's transactions and behind each other.
type DB struct {
	*sql.DB
	Reader *sql.DB
	stmts  *statements
	ckpt   *checkpointer
}

const (
	// Readers is how many read-only connections Reader keeps at most.
	Readers = 4
	// readerCacheKiB is each reader's page cache: queries read a page of
	// results, not a batch spread over an index.
	readerCacheKiB = 4 << 10
)

// Stmt returns the statement of query in tx. A statement prepared in an
// earlier transaction that committed is not compiled again.
func (db *DB) Stmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	return db.stmts.in(ctx, tx, query)
}

// Commit commits tx, then keeps the statements it prepared with Stmt (or
// NewInserts) for the next transactions.
func (db *DB) Commit(ctx context.Context, tx *sql.Tx) error {
	if err := tx.Commit(); err != nil {
		return err
	}
	db.stmts.keep(context.WithoutCancel(ctx))
	return nil
}

// Close stops the background checkpoints and closes the database.
func (db *DB) Close() error {
	db.stmts.close()
	err := db.ckpt.close()
	if rerr := db.Reader.Close(); err == nil {
		err = rerr
	}
	if cerr := db.DB.Close(); err == nil {
		err = cerr
	}
	return err
}

// cacheKiB is each connection's page cache (SQLite's default is 2 MiB).
// Directory ids are random (objectGUID): a page of entries or a plan of
// accounts touches pages all over an index, and with 2 MiB they were
// written out and read back within one transaction (figures in
// docs/performance.md). It is memory taken only as the database grows,
// and bounded.
const cacheKiB = 16 << 10

// Open opens (creating if needed) the database at path and migrates it with
// the .sql files of migrations, in name order (NNNN_name.sql).
func Open(ctx context.Context, path string, migrations fs.FS) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	dsn := "file:" + path + "?_journal_mode=WAL&_synchronous=NORMAL&_busy_timeout=10000&_foreign_keys=on&_txlock=immediate" +
		"&_cache_size=" + strconv.Itoa(-cacheKiB)
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// One writer connection: SQLite serialises writers anyway, and one
	// connection keeps transactions from waiting on each other's locks.
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := migrate(ctx, db, migrations); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	reader, err := sql.Open(driverName, "file:"+path+"?mode=ro&_busy_timeout=10000&_cache_size="+strconv.Itoa(-readerCacheKiB))
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	reader.SetMaxOpenConns(Readers)
	reader.SetMaxIdleConns(Readers)
	ckpt, err := startCheckpointer(path, dsn)
	if err != nil {
		reader.Close()
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return &DB{DB: db, Reader: reader, stmts: newStatements(db), ckpt: ckpt}, nil
}

func migrate(ctx context.Context, db *sql.DB, migrations fs.FS) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))`); err != nil {
		return err
	}
	files, err := fs.Glob(migrations, "*.sql")
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, name := range files {
		v, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with a number", name)
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, v).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		body, err := fs.ReadFile(migrations, name)
		if err != nil {
			return err
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name) VALUES (?, ?)`, v, name); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	return nil
}

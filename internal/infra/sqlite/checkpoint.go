package sqlite

import (
	"database/sql"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"
)

// Checkpoints: SQLite copies the write-ahead log back into the database
// file (a checkpoint) by default in the connection that commits, once the
// log passes 1,000 pages — so a service's handler paid for it, about a
// tenth of a first sync of 100,000 users. Here the handlers' connection
// checkpoints only past backstopPages, and a connection of its own
// checkpoints in the background (PASSIVE: it never waits for, nor blocks,
// the writer) once commits have stopped for a tick, or while they go on if
// the log passed busyLogBytes: a checkpoint in the middle of a sync
// competes with the services for the CPU, and copies again the pages the
// next commits change again (about a tenth of diff's and the writer's CPU
// in a first sync).

const (
	// backstopPages: the writer's connection still checkpoints if the log
	// grows past this (4 KiB pages: 1 GiB), whatever the background does.
	backstopPages = 262144
	// walKeepBytes: a log file larger than this is truncated to it once
	// checkpointed (a large transaction leaves a large file).
	walKeepBytes = 64 << 20
	// checkpointEvery is how often the background looks at the log.
	checkpointEvery = 200 * time.Millisecond
)

// busyLogBytes: past this, the log is checkpointed even while commits go
// on (a variable for tests).
var busyLogBytes int64 = 256 << 20

// checkpointDue says whether the background checkpoints now: commits have
// stopped since the last look, or the log passed busyLogBytes.
func checkpointDue(committed bool, logBytes int64) bool {
	return !committed || logBytes > busyLogBytes
}

// driverName is go-sqlite3 with the checkpoint settings on each connection.
const driverName = "sqlite3_adsync"

func init() {
	sql.Register(driverName, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		for _, q := range []string{
			"PRAGMA wal_autocheckpoint=" + strconv.Itoa(backstopPages),
			"PRAGMA journal_size_limit=" + strconv.Itoa(walKeepBytes),
		} {
			if _, err := c.Exec(q, nil); err != nil {
				return err
			}
		}
		return nil
	}})
}

// checkpointer checkpoints a database in the background until stopped.
type checkpointer struct {
	db   *sql.DB
	log  string // the write-ahead log's path
	stop chan struct{}
	done sync.WaitGroup
}

func startCheckpointer(path, dsn string) (*checkpointer, error) {
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	c := &checkpointer{db: db, log: path + "-wal", stop: make(chan struct{})}
	c.done.Add(1)
	go c.run()
	return c, nil
}

func (c *checkpointer) run() {
	defer c.done.Done()
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	last := int64(-1)
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			var committed bool
			last, committed = c.committedSince(last)
			var logBytes int64
			if fi, err := os.Stat(c.log); err == nil {
				logBytes = fi.Size()
			}
			if !checkpointDue(committed, logBytes) {
				continue
			}
			// Busy (another checkpoint running) or failing: the next
			// tick tries again, and the writer's backstop remains.
			_, _ = c.db.Exec("PRAGMA wal_checkpoint(PASSIVE)")
		}
	}
}

// committedSince reads the database's data_version, which changes when
// another connection commits, and says whether it differs from last (an
// unreadable one counts as a commit).
func (c *checkpointer) committedSince(last int64) (version int64, committed bool) {
	if err := c.db.QueryRow("PRAGMA data_version").Scan(&version); err != nil {
		return -1, true
	}
	return version, version != last
}

// close stops the background checkpoints and closes their connection.
func (c *checkpointer) close() error {
	close(c.stop)
	c.done.Wait()
	return c.db.Close()
}

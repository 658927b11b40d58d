package sqlite

import (
	"database/sql"
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
// the writer).

const (
	// backstopPages: the writer's connection still checkpoints if the log
	// grows past this (4 KiB pages: 1 GiB), whatever the background does.
	backstopPages = 262144
	// walKeepBytes: a log file larger than this is truncated to it once
	// checkpointed (a large transaction leaves a large file).
	walKeepBytes = 64 << 20
	// checkpointEvery is how often the background checkpoints.
	checkpointEvery = 200 * time.Millisecond
)

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
	stop chan struct{}
	done sync.WaitGroup
}

func startCheckpointer(dsn string) (*checkpointer, error) {
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	c := &checkpointer{db: db, stop: make(chan struct{})}
	c.done.Add(1)
	go c.run()
	return c, nil
}

func (c *checkpointer) run() {
	defer c.done.Done()
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			// Busy (another checkpoint running) or failing: the next
			// tick tries again, and the writer's backstop remains.
			_, _ = c.db.Exec("PRAGMA wal_checkpoint(PASSIVE)")
		}
	}
}

// close stops the background checkpoints and closes their connection.
func (c *checkpointer) close() error {
	close(c.stop)
	c.done.Wait()
	return c.db.Close()
}

package clustertest

import (
	"database/sql"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/mattn/go-sqlite3" // database/sql driver "sqlite3", as account-writer's store
	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
)

// writerState is what account-writer's store shows of a run's domain from
// outside, while the writer is frozen.
type writerState struct {
	staged    int  // batches staged (committed)
	applied   int  // batches applied as they arrived, or handled (committed)
	expecting bool // diff's word on the domain recorded (committed)
	finished  bool // the domain's outcome recorded (committed)
	txOpen    bool // the writer is inside a write transaction
}

// probeWriter reads the store at path (SQLite, WAL) and tries to take its
// write lock without waiting: "database is locked" means the (frozen)
// writer is inside a transaction.
func probeWriter(t *testing.T, path, runID string) writerState {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=0&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var st writerState
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM staged WHERE run_id=?`, runID).Scan(&st.staged); err != nil {
		t.Fatalf("probe %s: %v", path, err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM applied_batches WHERE run_id=?`, runID).Scan(&st.applied); err != nil {
		t.Fatalf("probe %s: %v", path, err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM pending_domains WHERE run_id=?`, runID).Scan(&n); err != nil {
		t.Fatalf("probe %s: %v", path, err)
	}
	st.expecting = n > 0
	if err := db.QueryRow(`SELECT count(*) FROM run_domains WHERE run_id=?`, runID).Scan(&n); err != nil {
		t.Fatalf("probe %s: %v", path, err)
	}
	st.finished = n > 0
	tx, err := db.Begin()
	var se sqlite3.Error
	switch {
	case err == nil:
		_ = tx.Rollback()
	case errors.As(err, &se) && se.Code == sqlite3.ErrBusy:
		st.txOpen = true
	default:
		t.Fatalf("probe %s: begin: %v", path, err)
	}
	return st
}

// stepIntoApply lets the frozen (see freeze) writer run a few milliseconds at a time
// (SIGCONT, SIGSTOP) until it is inside the transaction that applies the
// run's plan: everything the domain needs has reached the writer (diff's
// word and all batches but the one in that transaction, or all batches
// and diff's word in it), a write transaction is open, and the outcome is
// not recorded. It returns what it saw.
func stepIntoApply(t *testing.T, s *Service, dbPath string, done seenEvent) writerState {
	t.Helper()
	var c events.ChangesCompleted
	if err := json.Unmarshal(done.Data, &c); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		st := probeWriter(t, dbPath, c.RunID)
		pieces := st.staged
		if st.expecting {
			pieces++
		}
		switch {
		case st.finished:
			t.Fatalf("account-writer applied run %s before it could be killed while applying", c.RunID)
		case st.txOpen && pieces == c.TotalBatches:
			return st // the last piece's transaction: stage it, apply the plan
		case time.Now().After(deadline):
			t.Fatalf("account-writer never got inside the apply of run %s: %+v, %d batches", c.RunID, st, c.TotalBatches)
		}
		if err := s.cmd.Process.Signal(syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond) // single-stepping, not a wait for a condition
		if err := s.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
	}
}

// stepIntoPage single-steps a frozen account-writer (as stepIntoApply)
// until it is inside the transaction that applies a page of a first sync
// as it arrives, with at least one page applied before and the run's
// outcome not recorded. It returns what it saw.
func stepIntoPage(t *testing.T, s *Service, dbPath, runID string) writerState {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		st := probeWriter(t, dbPath, runID)
		switch {
		case st.finished:
			t.Fatalf("account-writer finished run %s before it could be killed while applying a page", runID)
		case st.txOpen && st.applied >= 1 && st.staged == 0:
			return st
		case time.Now().After(deadline):
			t.Fatalf("account-writer never got inside the apply of a page of run %s: %+v", runID, st)
		}
		if err := s.cmd.Process.Signal(syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond) // single-stepping, not a wait for a condition
		if err := s.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
	}
}

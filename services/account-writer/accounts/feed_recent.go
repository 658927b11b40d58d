package accounts

import (
	"slices"
	"sync"
)

// recentFeed keeps the outbox rows of the last commits in memory, so that
// the relay publishes them without reading them back: at 1,000,000
// accounts the relay's reads of the outbox took 3.7 s of account-writer's
// CPU, each row read from the write-ahead log the commit had just written
// (a reader's page cache starts empty after every commit).
//
// The table stays the record: rows are held here only once their
// transaction committed, with the sequence numbers the table gave them,
// and only while they follow each other without a gap. Anything else (a
// relay that fell behind by more than recentFeedBytes, a restart, a row
// written without add) leaves the relay to read the table, as before.
type recentFeed struct {
	mu    sync.Mutex
	rows  []FeedEvent // committed, consecutive sequence numbers
	bytes int
	// pending are the open transaction's rows: one write transaction at
	// a time (inTx, inPageTx, under uniqueKeys' lock) adds and ends.
	pending      []FeedEvent
	pendingBytes int
}

// recentFeedBytes bounds the payloads held, and those a transaction
// notes: about 2,500 changes, a page of a first sync. With 4 MiB,
// account-writer's peak RSS at 1,000,000 accounts was 128-129 MB (+21%
// and +27% from 100,000; 117 MB without); with 2 MiB 125 MB (+15%).
const recentFeedBytes = 2 << 20

// add notes a row the open transaction wrote to the outbox.
func (r *recentFeed) add(seq int64, domain string, raw []byte) {
	if r.pendingBytes+len(raw) > recentFeedBytes {
		return // the rest of the transaction's rows are the table's
	}
	r.pending = append(r.pending, FeedEvent{Seq: seq, Domain: domain, raw: raw})
	r.pendingBytes += len(raw)
}

// end ends the open transaction: its rows are held if it committed.
func (r *recentFeed) end(committed bool) {
	p := r.pending
	r.pending, r.pendingBytes = nil, 0
	if !committed || len(p) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := len(r.rows); n > 0 && r.rows[n-1].Seq+1 != p[0].Seq {
		r.rows, r.bytes = nil, 0 // a gap: the relay reads it from the table
	}
	for i, e := range p {
		if (i > 0 && e.Seq != p[i-1].Seq+1) || r.bytes+len(e.raw) > recentFeedBytes {
			return // a gap, or the relay is behind: the rest is in the table
		}
		r.rows = append(r.rows, e)
		r.bytes += len(e.raw)
	}
}

// after returns up to n rows that follow seq, if the first of them is
// held, and forgets those up to seq.
func (r *recentFeed) after(seq int64, n int) []FeedEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := 0
	for i < len(r.rows) && r.rows[i].Seq <= seq {
		r.bytes -= len(r.rows[i].raw)
		i++
	}
	clear(r.rows[:i]) // the array outlives them: let their payloads go
	r.rows = r.rows[i:]
	if len(r.rows) == 0 || r.rows[0].Seq != seq+1 {
		return nil
	}
	return slices.Clone(r.rows[:min(n, len(r.rows))])
}

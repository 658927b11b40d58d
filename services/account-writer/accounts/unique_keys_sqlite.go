package accounts

import (
	"context"
	"database/sql"
	"fmt"
	"hash/maphash"
	"sync"

	"github.com/adsync/adsync/internal/hashset"
)

// A store's first sync goes without the two unique indexes of accounts,
// by (domain, external_id) and by local name (migration 0015). With
// random objectGUIDs and names in no order, each new account changed a
// page of each at a random place: the account-writer took 59 µs an
// account at 1,000,000 with them and 12-14 µs without (docs/performance.md).
//
// While they are not built, uniqueKeys stands in for them. It holds a
// 64-bit hash of each account's id and of its local name, 16 bytes an
// account. A creation whose id or name hashes to one held (an account
// twice, a local-name conflict, or a collision) builds the indexes first,
// in its transaction, so that conflicts are found and reported as before.
// Apply's statements (an update, a deactivation, a conflict) build them
// first too, and they are built with the other deferred indexes once the
// run ends. The hashes are not kept across a restart: a store that opens
// with accounts builds the indexes then.
type uniqueKeys struct {
	// mu is held by each write transaction of the store, from before it
	// begins until after it ends, so that one transaction's hashes are
	// held before the next one looks.
	mu    sync.Mutex
	built bool
	seed  maphash.Seed
	held  hashset.Set
	// Of the open transaction: the hashes it adds, and whether it built
	// the indexes.
	pending  hashset.Set
	building bool
}

// maxUnindexedKeys bounds the hashes held, two an account (8 bytes each):
// past it the indexes are built and the sync goes on with them.
var maxUnindexedKeys = 4_000_000 // a variable for tests

var uniqueIndexes = []string{
	`CREATE UNIQUE INDEX IF NOT EXISTS accounts_id ON accounts (domain, external_id)`,
	`CREATE UNIQUE INDEX IF NOT EXISTS accounts_local_name ON accounts (local_name)`,
}

func newUniqueKeys(built bool) *uniqueKeys {
	return &uniqueKeys{built: built, seed: maphash.MakeSeed()}
}

// begin is called before a write transaction begins.
func (k *uniqueKeys) begin() { k.mu.Lock() }

// end is called once the transaction begin preceded has ended.
func (k *uniqueKeys) end(committed bool) {
	if committed && k.building {
		k.built = true
		k.held.Release()
	} else if committed {
		k.held.AddSet(&k.pending)
	}
	k.pending.Release()
	k.building = false
	k.mu.Unlock()
}

// unindexed says whether the open transaction writes accounts without the
// unique indexes.
func (k *uniqueKeys) unindexed() bool { return !k.built && !k.building }

// build builds the unique indexes in tx (a no-op once they exist). Only
// a bug elsewhere could leave two accounts with one key; the error then
// says which index.
func (k *uniqueKeys) build(ctx context.Context, tx *sql.Tx) error {
	if !k.unindexed() {
		return nil
	}
	for _, q := range uniqueIndexes {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("accounts: build a unique index (%s): %w", q, err)
		}
	}
	k.building = true
	return nil
}

// admit is asked before creations are inserted without the indexes: it
// takes their ids and local names if none of them is held, and builds the
// indexes otherwise (then the inserts find any conflict themselves).
// Their ids, and their names, are distinct (plainCreations).
func (k *uniqueKeys) admit(ctx context.Context, tx *sql.Tx, domain string, ids, names []string) error {
	if !k.unindexed() {
		return nil
	}
	hs := make([]uint64, 0, 2*len(ids))
	var h maphash.Hash
	h.SetSeed(k.seed)
	for i, id := range ids {
		h.Reset()
		h.WriteByte('i')
		h.WriteString(domain)
		h.WriteByte(0)
		h.WriteString(id)
		hs = append(hs, h.Sum64())
		h.Reset()
		h.WriteByte('n')
		h.WriteString(names[i])
		hs = append(hs, h.Sum64())
	}
	if k.held.Len()+k.pending.Len()+len(hs) > maxUnindexedKeys {
		return k.build(ctx, tx)
	}
	for _, x := range hs {
		if k.held.Has(x) || k.pending.Has(x) {
			return k.build(ctx, tx)
		}
	}
	k.pending.Add(hs)
	return nil
}

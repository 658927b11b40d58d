package accounts

import (
	"context"
	"fmt"
)

// deferredIndexes are built after a run, not by a migration: a store's
// first sync goes without them, and the indexes are sorted once instead.
// The index of memberships by group answers the console's group filter
// and SCIM's group members. Built at once over 1,000,000 memberships it
// took 1.4 s; kept up entry by entry through a first sync it made loading
// a million accounts take 119 s instead of 76-80 s. The indexes by user
// name (the order of REST and SCIM pages) and by local name without case
// (SCIM's userName, the console's search) had the same cost once users
// come in an order unrelated to their names, as Active Directory's do
// (migration 0014). Until a store's first run ends, those queries read
// every account instead.
var deferredIndexes = []string{
	`CREATE INDEX IF NOT EXISTS memberships_by_group ON memberships (domain, group_id, account)`,
	`CREATE INDEX IF NOT EXISTS accounts_username ON accounts (domain, username, external_id)`,
	`CREATE INDEX IF NOT EXISTS accounts_local_name_nocase ON accounts (local_name COLLATE NOCASE)`,
}

// BuildDeferredIndexes builds the indexes a first sync goes without, the
// unique ones (uniqueKeys) first (a no-op once they exist).
func (s *Store) BuildDeferredIndexes(ctx context.Context) error {
	s.keys.begin()
	defer s.keys.end(false)
	if err := s.db.BuildIndexes(ctx, uniqueIndexes...); err != nil {
		return fmt.Errorf("accounts: build a unique index: %w", err)
	}
	s.keys.built = true
	s.keys.held.Release()
	if err := s.db.BuildIndexes(ctx, deferredIndexes...); err != nil {
		return fmt.Errorf("accounts: build a deferred index: %w", err)
	}
	return nil
}

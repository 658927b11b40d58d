package directoryreader

import (
	"context"
	"errors"
	"fmt"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/internal/ldapdir"
)

// The reader decides what is in the sync's scope. A full read returns
// every user in scope; diff takes the accounts it did not return for gone
// and asks the reader where each one is (Service.AddEndpoints). A delta
// read returns the users that changed in scope, and after them:
//
//   - the users deleted since the watermark (tombstones, Active Directory),
//     in a page's Gone;
//   - the users that changed elsewhere in the domain and are no longer in
//     scope (moved out of the base DN, no longer matching the user
//     filter), in a page's OutOfScope;
//   - when the directory keeps no record of deletions (generic LDAP), the
//     ids of every user in scope, in pages' Kept, and directory.completed's
//     Swept: diff then finds the accounts gone as after a full read.
//
// A change that moves users in or out of the scope without changing them
// (a group the user filter names) or changes memberships (a synced group)
// makes the read full (plan). So a delta run ends in the same accounts as
// a full run would; the periodic full read remains a safety net.

// scopeRead is what readScope found: how many users left the scope, how
// many ids the sweep listed, and the last page's sequence number.
type scopeRead struct {
	left, inScope, seq int
}

// readScope publishes the departures of a delta read and, if the plan asks
// for it, the sweep.
func (s *Service) readScope(ctx context.Context, dir Directory, r *events.DirectoryRequested, attempt int, p readPlan,
	out *bus.Stream, seq int, changedUsers *background[[]ldapdir.Departure], inRead map[string]struct{}) (scopeRead, error) {
	read := func(id string) bool { _, ok := inRead[id]; return ok }
	changed, err := changedUsers.wait(ctx)
	if errors.Is(err, ldapdir.ErrTooManyChanged) {
		changed, err = dir.ChangedUsers(ctx, func(id string) bool { return !read(id) }, 0)
	}
	if err != nil {
		return scopeRead{seq: seq}, err
	}
	left, err := dir.LeftScope(ctx, changed, read)
	if err != nil {
		return scopeRead{seq: seq}, err
	}
	publish := func(page *events.DirectoryPage) error {
		seq++
		page.Run, page.Domain, page.Attempt, page.Seq, page.ObservedAt = r.Run, r.Domain, attempt, seq, s.cfg.Now().UTC()
		if page.Entries == nil {
			page.Entries = []events.DirectoryEntry{}
		}
		if err := out.Publish(ctx, page); err != nil {
			return &publishError{fmt.Errorf("publish page %d of %s: %w", seq, r.Domain, err)}
		}
		return nil
	}
	perPage := s.idsPerEvent()
	for start := 0; start < len(left); start += perPage {
		batch := left[start:min(start+perPage, len(left))]
		ids := make([]string, len(batch))
		for i, d := range batch {
			ids[i] = d.ID
		}
		if err := publish(&events.DirectoryPage{OutOfScope: ids}); err != nil {
			return scopeRead{seq: seq}, err
		}
	}
	if p.sweep == "" {
		return scopeRead{left: len(left), seq: seq}, nil
	}
	var kept []string
	inScope := 0
	err = dir.SweepIDs(ctx, func(ids []string) error {
		inScope += len(ids)
		kept = append(kept, ids...)
		if len(kept) < perPage {
			return nil
		}
		page := &events.DirectoryPage{Kept: kept}
		kept = nil
		return publish(page)
	})
	if err == nil && len(kept) > 0 {
		err = publish(&events.DirectoryPage{Kept: kept})
	}
	return scopeRead{left: len(left), inScope: inScope, seq: seq}, err
}

// idsPerEvent is how many ids a page of ids alone holds: an AD GUID or
// entryUUID is 36 characters, 39 with its quotes and comma in JSON.
func (s *Service) idsPerEvent() int {
	return max(1, min(4*s.cfg.MaxEntriesPerEvent, s.cfg.MaxBytesPerEvent/64))
}

var _ Directory = (*ldapdir.Conn)(nil)

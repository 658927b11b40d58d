package directoryreader

import (
	"context"
	"fmt"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/internal/ldapdir"
)

// pager cuts the users of one read into directory.page events, at most
// MaxEntriesPerEvent entries and MaxBytesPerEvent bytes each, and
// publishes them while the next ones are read (out: up to publishWindow
// in flight). The deleted users' page, in a delta read, comes first.
type pager struct {
	s       *Service
	r       *events.DirectoryRequested
	attempt int
	out     *bus.Stream

	seq   int // the last page's number
	batch []events.DirectoryEntry
	kept  []string // skipped entries' ids: their accounts are kept as they are
	size  int

	// deleted is the delta read's search of deleted users (nil in a full
	// read); gone what it found, once published.
	deleted  *background[[]string]
	gone     []string
	goneDone bool
	// inRead remembers, in a delta read, the ids it returned: a user that
	// changed elsewhere left the scope (readScope).
	inRead map[string]struct{}
}

// skipped keeps the id of an entry the read could not sync.
func (p *pager) skipped(sk ldapdir.Skipped) {
	if sk.ID == "" {
		return
	}
	p.kept = append(p.kept, sk.ID)
	if p.inRead != nil {
		p.inRead[sk.ID] = struct{}{}
	}
}

// add adds a page of users as the directory returned them, their nested
// groups resolved with graph, publishing each full page.
func (p *pager) add(ctx context.Context, page []events.DirectoryEntry, graph *ldapdir.GroupGraph) error {
	for _, e := range page {
		if p.inRead != nil {
			p.inRead[e.ID] = struct{}{}
		}
		e.GroupRefs = graph.Resolve(e.Groups)
		es := entrySize(e)
		if len(p.batch) > 0 && (len(p.batch) >= p.s.cfg.MaxEntriesPerEvent || p.size+es > p.s.cfg.MaxBytesPerEvent) {
			if err := p.flush(ctx); err != nil {
				return err
			}
		}
		p.batch = append(p.batch, e)
		p.size += es
	}
	if len(p.kept) > 0 && len(p.batch) == 0 {
		return p.flush(ctx)
	}
	return nil
}

// publishGone publishes the deleted users' page, once, before any other.
func (p *pager) publishGone(ctx context.Context) error {
	if p.goneDone || p.deleted == nil {
		p.goneDone = true
		return nil
	}
	p.goneDone = true
	var err error
	if p.gone, err = p.deleted.wait(ctx); err != nil || len(p.gone) == 0 {
		return err
	}
	p.seq++
	tombs := &events.DirectoryPage{Run: p.r.Run, Domain: p.r.Domain, Attempt: p.attempt, Seq: p.seq, ObservedAt: p.s.cfg.Now().UTC(),
		Entries: []events.DirectoryEntry{}, Gone: p.gone}
	if err := p.out.Publish(ctx, tombs); err != nil {
		return &publishError{fmt.Errorf("publish the deleted users of %s: %w", p.r.Domain, err)}
	}
	return nil
}

// flush publishes the page being filled, if it has anything.
func (p *pager) flush(ctx context.Context) error {
	if len(p.batch) == 0 && len(p.kept) == 0 {
		return nil
	}
	if err := p.publishGone(ctx); err != nil {
		return err
	}
	p.seq++
	page := &events.DirectoryPage{Run: p.r.Run, Domain: p.r.Domain, Attempt: p.attempt, Seq: p.seq, ObservedAt: p.s.cfg.Now().UTC(),
		Entries: p.batch, Kept: p.kept}
	if page.Entries == nil {
		page.Entries = []events.DirectoryEntry{}
	}
	if err := p.out.Publish(ctx, page); err != nil {
		return &publishError{fmt.Errorf("publish page %d of %s: %w", p.seq, p.r.Domain, err)}
	}
	p.batch, p.kept, p.size = nil, nil, 0
	return nil
}

// readUsers reads every user of the read into pages, once the groups are
// in, and publishes the last page and the deleted users' page.
func (p *pager) readUsers(ctx context.Context, dir Directory, groups *background[*ldapdir.GroupGraph]) (ldapdir.Stats, *ldapdir.GroupGraph, error) {
	dir.OnSkipped(p.skipped)
	var graph *ldapdir.GroupGraph
	stats, err := dir.SearchUsers(ctx, func(page []events.DirectoryEntry) error {
		if graph == nil {
			var err error
			if graph, err = groups.wait(ctx); err != nil {
				return err
			}
		}
		return p.add(ctx, page, graph)
	})
	if err == nil {
		err = p.flush(ctx)
	}
	if err == nil && graph == nil { // no user read: the groups still count
		graph, err = groups.wait(ctx)
	}
	if err == nil {
		err = p.publishGone(ctx) // no page of users
	}
	return stats, graph, err
}

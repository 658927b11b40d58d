package diff

import (
	"context"
	"fmt"

	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/infra/bus"
)

// HandlePage compares a page's entries with what diff last saw and
// publishes their changes as one batch; the attempt's last page to arrive
// finishes the attempt if the reader's word on it came first.
//
// The changes are published before the state is committed: after a crash
// the page is redelivered and yields the same batch with the same message
// id, which is applied once. Every state change keeps an undo record for
// the run, so that a plan that is not applied can be taken back.
func (s *Service) HandlePage(ctx context.Context, p *events.DirectoryPage) error {
	k := Key{RunID: p.RunID, Domain: p.Domain, Attempt: p.Attempt}
	version := p.ObservedAt.UnixNano()
	return s.inTx(ctx, func(ctx context.Context, tx *Tx) error {
		done, err := tx.PageDone(k, p.Seq)
		if err != nil || done {
			return err
		}
		// Another attempt finished the run's domain: this one is late.
		if done, err = tx.DomainFinished(p.RunID, p.Domain); err != nil || done {
			return err
		}
		// Make sure the attempt is recorded (with the domain's active
		// accounts) before this page changes anything.
		if err := tx.AddProgress(k, 0, Progress{}); err != nil {
			return err
		}
		// A first sync's pages are applied as they arrive (ApplyNow). Its
		// record is kept like any other run's: if the run fails, it goes
		// back, and the writer finds the accounts it created in place.
		applyNow, err := tx.ApplyNow(p.RunID, p.Domain, s.cfg.StreamFirstSync && !p.DryRun)
		if err != nil {
			return err
		}
		// A first sync stages its new entries (staged_sqlite.go).
		if applyNow {
			if _, err := tx.Stage(k); err != nil {
				return err
			}
		}
		var changes []events.AccountChange
		var prog Progress
		entries := make([]events.DirectoryEntry, len(p.Entries))
		ids := make([]string, len(p.Entries), len(p.Entries)+len(p.Kept))
		for i, raw := range p.Entries {
			entries[i] = Normalize(raw)
			ids[i] = entries[i].ID
		}
		hashes := hashPage(entries)
		var docs []byte
		// Only the entries whose recorded hash differs come back (nil:
		// never seen); the others are unchanged.
		known, knownRaw, err := lookupChanged(tx, p.Domain, ids, hashes, applyNow)
		if err != nil {
			return err
		}
		// Delta reads: users the directory deleted (tombstones), and users
		// that left the sync's scope (the reader found them elsewhere).
		for _, departed := range []struct {
			ids    []string
			reason string
		}{{p.Gone, events.ReasonDirectoryRemoved}, {p.OutOfScope, events.ReasonOutOfScope}} {
			for _, id := range departed.ids {
				prev, prevRaw, err := tx.Lookup(p.Domain, id)
				if err != nil {
					return err
				}
				if prev == nil || !prev.Present || prev.ObservedAt > version {
					continue
				}
				changes = append(changes, events.AccountChange{Op: events.OpDeactivate, ExternalID: id, Reason: departed.reason, Version: version})
				prog.Counts.Deactivated++
				prev.Entry.ID = id
				if err := tx.MarkGone(p.RunID, p.Domain, *prev, prevRaw, version); err != nil {
					return err
				}
			}
		}
		for i, e := range entries {
			hash := hashes[i]
			prog.Entries++
			prev, differs := known[e.ID]
			if !differs || prev != nil && prev.ObservedAt > version {
				// Unchanged; or a newer read already recorded this entry:
				// a replayed or late page never overrides it.
				prog.Counts.Unchanged++
				continue
			}
			prevRaw := knownRaw[e.ID]
			if prev != nil {
				if err := json.Unmarshal(prevRaw, &prev.Entry); err != nil {
					return fmt.Errorf("diff state: entry %s/%s is corrupt: %w", p.Domain, e.ID, err)
				}
			}
			c, changed := Decide(prev, e, hash)
			if !changed {
				// Recorded with a hash of an older format: this one is
				// recorded instead, and the next run finds it unchanged.
				prog.Counts.Unchanged++
				if err := tx.PutHash(p.Domain, e.ID, hash); err != nil {
					return err
				}
				continue
			}
			c.Version = version
			changes = append(changes, c)
			prog.Counts = prog.Counts.Add(events.CountOp(c.Op))
			var before *events.DirectoryEntry
			if prev != nil {
				before = &prev.Entry
			}
			joined, left := Memberships(before, e)
			prog.Counts.Joined += joined
			prog.Counts.Left += left
			next := Seen{Entry: e, Hash: hash, Active: !e.Disabled, Present: true, ObservedAt: version}
			// The page's documents share one buffer (Put keeps them
			// until the transaction ends).
			start := len(docs)
			if docs, err = json.Append(docs, &e, json.EscapeHTML); err != nil {
				return fmt.Errorf("diff state: encode entry %s/%s: %w", p.Domain, e.ID, err)
			}
			if err := tx.Put(p.RunID, p.Domain, next, docs[start:len(docs):len(docs)], prev, prevRaw); err != nil {
				return err
			}
		}
		// A page with a deactivation (an entry an earlier page of the run
		// recorded, now disabled or deleted) goes with the plan, which the
		// deletion guard checks.
		applyNow = applyNow && prog.Counts.Deactivated == 0
		// After the page's changes. The documents of the entries diff had
		// a record of came with LookupChanged, those of new ones with Put;
		// kept entries are looked up (MarkSeenMany).
		if err := tx.MarkSeenMany(k, p.Seq, p.Kept); err != nil {
			return err
		}
		if len(changes) > 0 {
			batch := &events.AccountChanges{Run: p.Run, Domain: p.Domain, Attempt: p.Attempt, Batch: fmt.Sprintf("p%d", p.Seq), Changes: changes, ApplyNow: applyNow}
			if err := s.pub.Publish(ctx, batch); err != nil {
				return bus.RetryAfter(0, fmt.Errorf("publish changes of page %d: %w", p.Seq, err))
			}
			prog.Batches = 1
		}
		if err := tx.AddProgress(k, p.Seq, prog); err != nil {
			return err
		}
		return s.finishIfReady(ctx, tx, k)
	})
}

// lookupChanged is LookupChanged. In a first sync (firstSync) most entries
// are new: diff asks first which of them it has a record of (an earlier
// page or attempt of the run, an id twice in the read), looks those up, and
// takes the others for new without a row each coming back from SQLite.
func lookupChanged(tx *Tx, domain string, ids []string, hashes [][]byte, firstSync bool) (map[string]*Seen, map[string][]byte, error) {
	if !firstSync {
		return tx.LookupChanged(domain, ids, hashes)
	}
	recorded, err := tx.Recorded(domain, ids)
	if err != nil {
		return nil, nil, err
	}
	someIDs, someHashes := make([]string, len(recorded)), make([][]byte, len(recorded))
	for j, i := range recorded {
		someIDs[j], someHashes[j] = ids[i], hashes[i]
	}
	known, raws, err := tx.LookupChanged(domain, someIDs, someHashes)
	if err != nil {
		return nil, nil, err
	}
	isRecorded := make([]bool, len(ids))
	for _, i := range recorded {
		isRecorded[i] = true
	}
	for i, id := range ids {
		if !isRecorded[i] {
			known[id] = nil // new
		}
	}
	return known, raws, nil
}

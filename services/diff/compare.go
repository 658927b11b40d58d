package diff

import (
	"crypto/sha256"
	"slices"

	"github.com/adsync/adsync/events"
)

// Seen is diff's record of an entry as it last saw it.
type Seen struct {
	Entry events.DirectoryEntry
	// Raw is Entry as stored (JSON).
	Raw     []byte
	Hash    []byte
	Active  bool
	Present bool
	// ObservedAt is the observation time (ns) of Entry.
	ObservedAt int64
}

// Normalize returns the entry in the form that is hashed and stored: groups
// sorted and de-duplicated, so that a directory returning the same groups
// in another order is not a change.
func Normalize(e events.DirectoryEntry) events.DirectoryEntry {
	if len(e.Groups) > 1 {
		g := slices.Clone(e.Groups)
		slices.Sort(g)
		e.Groups = slices.Compact(g)
	}
	if !e.Disabled {
		e.DisabledReason = ""
	}
	return e
}

// Hash is the content hash of a normalised entry, with the entry's JSON
// form. Stored hashes must stay valid from one version to the next (else a
// no-change run would compare every entry field by field): the encoding is
// byte for byte encoding/json's (TestHashIsStable).
func Hash(e events.DirectoryEntry) ([]byte, []byte) {
	hashes, encs := hashPage([]events.DirectoryEntry{e})
	return hashes[0], encs[0]
}

// hashPage is Hash for each of a page's normalised entries: the hashes
// and the JSON forms share two buffers.
func hashPage(entries []events.DirectoryEntry) (hashes, encs [][]byte) {
	hashes, encs = make([][]byte, len(entries)), make([][]byte, len(entries))
	sums := make([]byte, 16*len(entries))
	buf := make([]byte, 0, 512*len(entries))
	for i := range entries {
		start := len(buf)
		buf = appendEntryJSON(buf, &entries[i])
		encs[i] = buf[start:len(buf):len(buf)]
		sum := sha256.Sum256(encs[i])
		hashes[i] = sums[16*i : 16*i+16 : 16*i+16]
		copy(hashes[i], sum[:16])
	}
	return hashes, encs
}

// Decide compares an entry with what diff last saw of it and returns the
// change to publish, or ok=false when nothing changed.
func Decide(prev *Seen, e events.DirectoryEntry, hash []byte) (c events.AccountChange, ok bool) {
	c = events.AccountChange{ExternalID: e.ID, Entry: &e}
	active := !e.Disabled
	switch {
	case prev == nil:
		c.Op = events.OpCreate
		if !active {
			c.Reason = e.DisabledReason
		}
		return c, true
	case !prev.Present && active:
		c.Op, c.Reason = events.OpReactivate, events.ReasonDirectoryReturned
	case !prev.Present:
		// Back in the directory but disabled there: still inactive, now
		// for the directory's reason.
		c.Op, c.Reason = events.OpUpdate, e.DisabledReason
	case prev.Active && !active:
		c.Op, c.Reason = events.OpDeactivate, e.DisabledReason
	case !prev.Active && active:
		c.Op, c.Reason = events.OpReactivate, events.ReasonDirectoryEnabled
	case string(prev.Hash) == string(hash):
		return events.AccountChange{}, false
	default:
		c.Op = events.OpUpdate
		if !active {
			c.Reason = e.DisabledReason
		}
	}
	c.Fields = ChangedFields(prev.Entry, e)
	return c, true
}

// ChangedFields names the account fields that differ between two entries.
func ChangedFields(a, b events.DirectoryEntry) []string {
	var f []string
	add := func(name string, differ bool) {
		if differ {
			f = append(f, name)
		}
	}
	add("username", a.Username != b.Username)
	add("upn", a.UPN != b.UPN)
	add("email", a.Email != b.Email)
	add("display_name", a.DisplayName != b.DisplayName)
	add("given_name", a.GivenName != b.GivenName)
	add("surname", a.Surname != b.Surname)
	add("dn", a.DN != b.DN)
	add("groups", !slices.Equal(a.Groups, b.Groups) || !slices.Equal(groupIDs(a.GroupRefs), groupIDs(b.GroupRefs)))
	add("active", a.Disabled != b.Disabled)
	add("inactive_reason", a.DisabledReason != b.DisabledReason)
	return f
}

func groupIDs(refs []events.GroupRef) []string {
	ids := make([]string, len(refs))
	for i, r := range refs {
		ids[i] = r.ID
	}
	slices.Sort(ids)
	return ids
}

// Memberships counts the groups joined and left between two entries (prev
// nil: a new account joins all of its groups).
func Memberships(prev *events.DirectoryEntry, next events.DirectoryEntry) (joined, left int) {
	had := map[string]bool{}
	if prev != nil {
		for _, g := range prev.GroupRefs {
			had[g.ID] = true
		}
	}
	has := map[string]bool{}
	for _, g := range next.GroupRefs {
		has[g.ID] = true
		if !had[g.ID] {
			joined++
		}
	}
	for id := range had {
		if !has[id] {
			left++
		}
	}
	return joined, left
}

package diff

import (
	"slices"

	"github.com/segmentio/encoding/json"

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

// Hash returns the content hash of a normalised entry (hashPage) and the
// document diff stores for it.
func Hash(e events.DirectoryEntry) (hash, doc []byte) {
	doc, err := json.Marshal(e)
	if err != nil {
		panic(err) // a struct of strings and bools always encodes
	}
	return hashPage([]events.DirectoryEntry{e})[0], doc
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
	case string(prev.Hash) == string(hash), sameEntry(&prev.Entry, &e):
		// The same hash; or, recorded with a hash of another format (an
		// older version's), the same fields: no change either.
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

// sameEntry reports whether two normalised entries have equal fields.
func sameEntry(a, b *events.DirectoryEntry) bool {
	return a.ID == b.ID && a.DN == b.DN && a.Username == b.Username && a.UPN == b.UPN && a.Email == b.Email &&
		a.DisplayName == b.DisplayName && a.GivenName == b.GivenName && a.Surname == b.Surname &&
		slices.Equal(a.Groups, b.Groups) && slices.Equal(a.GroupRefs, b.GroupRefs) &&
		a.Disabled == b.Disabled && a.DisabledReason == b.DisabledReason
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

package ldapdir

import (
	"strconv"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/adsync/adsync/events"
)

// Active Directory delta reads and account expiry.
//
// An account expiring changes nothing in the directory (not its
// uSNChanged), so a delta read must also read the users whose
// accountExpires passed since the last read. accountExpires has no index,
// so asking for them makes the server test every user: on a DC that
// answers (uSNChanged>=N) from its index (Active Directory; Samba on
// LMDB), that one clause cost a 10,000-user delta read more than the
// changed users did. So each read works out the earliest expiry ahead of
// it (events.Watermark.NextExpiry), and the next delta read asks only once
// that time has passed, or when it is not known (an older watermark).
//
// When it asks, it asks for every user whose accountExpires is at or after
// the last read: those that expired since (they are delivered) and those
// that expire later (they are only counted for the next NextExpiry, not
// delivered unless they changed), so the next watermark knows again.

// expiryWatch is a read's part in that: set by Conn.ChangedSince for an
// Active Directory delta read (the zero value: any other read), then
// resolved against the read's time (at).
type expiryWatch struct {
	// since: users whose accountExpires passed since then are read (zero:
	// not an Active Directory delta read).
	since time.Time
	// changedUSN is the delta's first uSNChanged: an entry below it was
	// read for its expiry alone.
	changedUSN int64
	// known and next: the watermark's ExpiriesKnown and NextExpiry.
	known bool
	next  time.Time
	// look, once resolved: the read asks for those users, as the
	// watermark's NextExpiry passed or is not known.
	look bool
}

// watchExpiry sets up the expiry part of a delta read since w (Active
// Directory).
func watchExpiry(w events.Watermark) expiryWatch {
	x := expiryWatch{since: w.TakenAt, changedUSN: w.USN + 1, known: w.ExpiriesKnown, next: w.NextExpiry}
	if x.since.IsZero() {
		x.since = w.FullAt // a watermark of an adsync older than TakenAt
	}
	return x
}

// at resolves x for a read that maps entries with the time now: it looks
// unless the watermark knows that no user expires before a time still
// ahead. A clock behind the last read (since after now) finds nothing to
// look for.
func (x expiryWatch) at(now time.Time) expiryWatch {
	x.look = !x.since.IsZero() && !x.since.After(now) && (!x.known || !x.next.IsZero() && !x.next.After(now))
	return x
}

// clause is the filter clause that selects the users the read asks for
// for their expiry, or "" when it does not look: an accountExpires at or
// after since (0 and 0x7FFFFFFFFFFFFFFF mean never).
func (x expiryWatch) clause() string {
	if !x.look {
		return ""
	}
	bound := ldap.EscapeFilter(strconv.FormatInt(fileTime(x.since), 10))
	return andFilter("(accountExpires>="+bound+")", notFilter("(accountExpires=0)"), notFilter("(accountExpires=9223372036854775807)"))
}

// knows reports whether a read with x learns the next expiry of every
// active user: a full read (x is zero) or a delta that looks learns it
// from what it reads; one that does not carries the watermark's forward
// (ahead). A delta read that neither looks nor had it learns nothing.
func (x expiryWatch) knows() (known bool, ahead time.Time) {
	if x.since.IsZero() || x.look {
		return true, time.Time{}
	}
	return x.known, x.next
}

// attrs are the attributes the read needs besides the mapped ones.
func (x expiryWatch) attrs() []string {
	if x.look {
		return []string{"uSNChanged"}
	}
	return nil
}

// forExpiryOnly reports whether an entry, mapped as d, was read only for
// its expiry and is to be counted, not delivered: it did not change since
// the last read and is not disabled for having expired (it expires later,
// or it was disabled in the directory before).
func (x expiryWatch) forExpiryOnly(e *ldap.Entry, d *events.DirectoryEntry) bool {
	if !x.look || d.DisabledReason == events.ReasonExpired {
		return false
	}
	usn, err := strconv.ParseInt(first(e, "uSNChanged"), 10, 64)
	return err == nil && usn < x.changedUSN
}

// earliest returns the earlier of two expiries, zero meaning none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || !b.IsZero() && b.Before(a) {
		return b
	}
	return a
}

package ldapdir

import "time"

// Stats summarises one SearchUsers call.
type Stats struct {
	Pages   int // LDAP pages read
	Entries int // entries delivered to the callback
	Skipped int // entries not delivered (no id or no username...)
	// SkippedSample holds the first MaxSkippedSample skipped entries.
	SkippedSample []Skipped
	// ExpiriesKnown (Active Directory): NextExpiry is the earliest
	// accountExpires ahead of the read among the active users, as far as
	// the read tells (expiry.go); zero when none expires.
	ExpiriesKnown bool
	NextExpiry    time.Time
	// LookedForExpired: a delta read asked for the users whose
	// accountExpires passed since the last read (expiry.go).
	LookedForExpired bool
}

// Skipped is an entry that SearchUsers did not deliver, and why. ID is set
// when the entry has one (it exists in the directory, so its account must
// not be taken for gone).
type Skipped struct {
	DN, ID, Reason string
}

// MaxSkippedSample bounds Stats.SkippedSample.
const MaxSkippedSample = 1000

func (s *Stats) skip(sk Skipped) {
	s.Skipped++
	if len(s.SkippedSample) < MaxSkippedSample {
		s.SkippedSample = append(s.SkippedSample, sk)
	}
}

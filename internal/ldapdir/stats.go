package ldapdir

// Stats summarises one SearchUsers call.
type Stats struct {
	Pages   int // LDAP pages read
	Entries int // entries delivered to the callback
	Skipped int // entries not delivered (no id or no username...)
	// SkippedSample holds the first MaxSkippedSample skipped entries.
	SkippedSample []Skipped
}

// Skipped is an entry that SearchUsers did not deliver, and why.
type Skipped struct {
	DN, Reason string
}

// MaxSkippedSample bounds Stats.SkippedSample.
const MaxSkippedSample = 100

func (s *Stats) skip(sk Skipped) {
	s.Skipped++
	if len(s.SkippedSample) < MaxSkippedSample {
		s.SkippedSample = append(s.SkippedSample, sk)
	}
}

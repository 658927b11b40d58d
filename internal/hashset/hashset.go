// Package hashset keeps a large set of 64-bit hashes in 8 bytes a member.
package hashset

import "slices"

// Set is a set of 64-bit hashes kept as a few sorted runs, the larger
// first: 8 bytes a member (a map took about 20 at a million). Each Add
// makes a run; runs merge when the newer one has grown as large as the
// one before it, so a member moves about log2(adds) times, and a lookup
// searches log2(adds) runs at most.
type Set struct {
	runs [][]uint64
	n    int
}

// Len is the number of hashes added (a hash added twice counts twice).
func (s *Set) Len() int { return s.n }

// Has reports whether h was added.
func (s *Set) Has(h uint64) bool {
	for _, r := range s.runs {
		if _, ok := slices.BinarySearch(r, h); ok {
			return true
		}
	}
	return false
}

// Add adds hs (not kept; sorted in place).
func (s *Set) Add(hs []uint64) {
	if len(hs) == 0 {
		return
	}
	slices.Sort(hs)
	s.runs = append(s.runs, slices.Clone(hs))
	s.n += len(hs)
	for k := len(s.runs) - 1; k > 0 && len(s.runs[k]) >= len(s.runs[k-1]); k-- {
		s.runs[k-1] = mergeSorted(s.runs[k-1], s.runs[k])
		s.runs = s.runs[:k]
	}
}

func mergeSorted(a, b []uint64) []uint64 {
	out := make([]uint64, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if a[i] <= b[j] {
			out = append(out, a[i])
			i++
		} else {
			out = append(out, b[j])
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// AddSet adds the members of o.
func (s *Set) AddSet(o *Set) {
	for _, r := range o.runs {
		s.Add(r) // sorted already: Add leaves it as it is, and copies it
	}
}

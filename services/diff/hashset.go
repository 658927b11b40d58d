package diff

import "slices"

// hashSet is a set of 64-bit hashes kept as a few sorted runs, the larger
// first: 8 bytes a member (a map took about 20 at a million). A page's
// hashes make a run; runs merge when the newer one has grown as large as
// the one before it, so a member moves about log2(pages) times, and a
// lookup searches log2(pages) runs at most.
type hashSet struct {
	runs [][]uint64
	n    int
}

func (s *hashSet) len() int { return s.n }

func (s *hashSet) has(h uint64) bool {
	for _, r := range s.runs {
		if _, ok := slices.BinarySearch(r, h); ok {
			return true
		}
	}
	return false
}

// add adds hs (kept, and sorted in place).
func (s *hashSet) add(hs []uint64) {
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

// Package hashset keeps a large set of 64-bit hashes in 8 bytes a member.
package hashset

import (
	"math/bits"
	"slices"
)

// Set is a set of 64-bit hashes kept as a few sorted runs, the larger
// first: 8 bytes a member (a map took about 20 at a million). Each Add
// makes a run; runs merge when the newer one has grown as large as the
// one before it, so a member moves about log2(adds) times, and a lookup
// searches log2(adds) runs at most. The hashes are split by their top
// bits into parts, each with its runs: a merge then needs room for a
// part's members only, not for half the set. Large runs live outside the
// Go heap (block). A Set is not safe for concurrent use.
type Set struct {
	parts [parts]part
	n     int
}

// parts is how many parts a Set has, by the top partBits of a hash.
const (
	partBits = 4
	parts    = 1 << partBits
)

type part struct{ runs []*block }

// Len is the number of hashes added (a hash added twice counts twice).
func (s *Set) Len() int { return s.n }

// Has reports whether h was added.
func (s *Set) Has(h uint64) bool {
	for _, r := range s.parts[h>>(64-partBits)].runs {
		if contains(r.h, h) {
			return true
		}
	}
	return false
}

// contains reports whether the sorted run r holds h. Hashes are uniform,
// so a run's hash is about where its value says within the part: the
// search starts there and gallops outwards, reading a few nearby cache
// lines instead of a binary search's probes all over a run of megabytes
// (which took 6% of the account-writer's CPU in a first sync). Any order
// of values is answered right, only slower.
func contains(r []uint64, h uint64) bool {
	n := len(r)
	if n == 0 {
		return false
	}
	est, _ := bits.Mul64(h<<partBits, uint64(n)) // < n
	i := int(est)
	switch {
	case r[i] == h:
		return true
	case r[i] < h:
		lo, step := i, 1
		for lo+step < n && r[lo+step] < h {
			lo += step
			step *= 2
		}
		_, ok := slices.BinarySearch(r[lo:min(lo+step+1, n)], h)
		return ok
	default:
		hi, step := i, 1
		for hi-step >= 0 && r[hi-step] > h {
			hi -= step
			step *= 2
		}
		_, ok := slices.BinarySearch(r[max(hi-step, 0):hi+1], h)
		return ok
	}
}

// Add adds hs (not kept; sorted in place).
func (s *Set) Add(hs []uint64) {
	slices.Sort(hs)
	s.n += len(hs)
	for len(hs) > 0 {
		p := hs[0] >> (64 - partBits)
		// Sorted: a part's hashes come together.
		n := len(hs)
		if p < parts-1 {
			n, _ = slices.BinarySearch(hs, (p+1)<<(64-partBits))
		}
		s.parts[p].add(hs[:n])
		hs = hs[n:]
	}
}

func (pt *part) add(hs []uint64) {
	r := newBlock(len(hs))
	copy(r.h, hs)
	pt.runs = append(pt.runs, r)
	for k := len(pt.runs) - 1; k > 0 && len(pt.runs[k].h) >= len(pt.runs[k-1].h); k-- {
		a, b := pt.runs[k-1], pt.runs[k]
		m := newBlock(len(a.h) + len(b.h))
		mergeSorted(m.h, a.h, b.h)
		a.free()
		b.free()
		pt.runs[k-1] = m
		pt.runs = pt.runs[:k]
	}
}

// AddSet adds the members of o.
func (s *Set) AddSet(o *Set) {
	for i := range o.parts {
		for _, r := range o.parts[i].runs {
			s.parts[i].add(r.h)
			s.n += len(r.h)
		}
	}
}

// Release empties the set and gives its memory back at once (otherwise
// that waits for the collector to find the set unreachable).
func (s *Set) Release() {
	for i := range s.parts {
		for _, r := range s.parts[i].runs {
			r.free()
		}
	}
	*s = Set{}
}

// mergeSorted merges a and b into out, of their joint length.
func mergeSorted(out, a, b []uint64) {
	i, j, w := 0, 0, 0
	for i < len(a) && j < len(b) {
		if a[i] <= b[j] {
			out[w] = a[i]
			i++
		} else {
			out[w] = b[j]
			j++
		}
		w++
	}
	w += copy(out[w:], a[i:])
	copy(out[w:], b[j:])
}

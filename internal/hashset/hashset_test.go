package hashset

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// The set answers as a map would, whatever the sizes of the pages added
// and whether the hashes are spread (as hashes are) or not, and so does
// a set that took its members with AddSet.
func TestSetAnswersAsAMap(t *testing.T) {
	const values = 50000
	// Spread over the whole range, so every part has some; or all in the
	// first few thousandths of it.
	for _, stride := range []uint64{math.MaxUint64 / values, 1} {
		testSetAnswersAsAMap(t, values, stride)
	}
}

func testSetAnswersAsAMap(t *testing.T, values, stride uint64) {
	for _, pages := range [][]int{{1}, {3, 3, 3}, {2500, 1, 7, 2500, 100}, {1, 2, 4, 8, 16, 32, 64, 1, 1, 1}, {20000, 20000, 30000}} {
		var s Set
		want := map[uint64]bool{}
		rng := rand.New(rand.NewPCG(1, uint64(len(pages))))
		check := func(s *Set, what string) {
			t.Helper()
			for k := range values + 1 {
				if h := k * stride; s.Has(h) != want[h] {
					t.Fatalf("stride %d, pages %v, %s: has(%d) = %v, want %v", stride, pages, what, h, s.Has(h), want[h])
				}
			}
		}
		added := 0
		for _, n := range pages {
			page := make([]uint64, n)
			for i := range page {
				page[i] = rng.Uint64() % values * stride // repeats, as a read may have
				want[page[i]] = true
			}
			s.Add(page)
			added += n
			check(&s, "added")
		}
		for i, pt := range s.parts {
			if len(pt.runs) > 12 {
				t.Fatalf("pages %v: %d runs in part %d, want at most log2 of the pages", pages, len(pt.runs), i)
			}
		}
		var c Set
		c.AddSet(&s)
		check(&c, "AddSet")
		if s.Len() != added || c.Len() != added {
			t.Fatalf("pages %v: Len %d and %d after AddSet, want %d", pages, s.Len(), c.Len(), added)
		}
	}
}

// Millions of hashes (large runs) are answered as well, take no room in
// the Go heap, and are given back by Release.
func TestLargeRunsLiveOutsideTheHeap(t *testing.T) {
	const pages, perPage = 200, 20_000 // 4,000,000 hashes, 32 MB
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var s Set
	rng := rand.New(rand.NewPCG(7, 7))
	page := make([]uint64, perPage)
	var some []uint64
	for range pages {
		for i := range page {
			page[i] = rng.Uint64()
		}
		some = append(some, page[0], page[perPage-1])
		s.Add(page)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 4<<20 {
		t.Fatalf("the heap grew by %d bytes holding %d hashes (%d bytes)", grew, s.Len(), 8*s.Len())
	}
	for _, h := range some {
		if !s.Has(h) {
			t.Fatalf("hash %x added and not found", h)
		}
	}
	misses := 0
	for range 10_000 {
		if s.Has(rng.Uint64()) {
			misses++
		}
	}
	if misses > 0 {
		t.Fatalf("%d of 10,000 random hashes found in a set of %d", misses, s.Len())
	}
	s.Release()
	if s.Len() != 0 || s.Has(some[0]) {
		t.Fatal("a released set still holds hashes")
	}
	s.Add([]uint64{1, 2})
	if !s.Has(2) || s.Has(some[0]) {
		t.Fatal("a released set does not take new hashes")
	}
}

// BenchmarkHas: a lookup that misses in a set of 2,000,000 hashes added
// 2,000 at a time, as a first sync of 1,000,000 accounts holds them.
func BenchmarkHas(b *testing.B) {
	var s Set
	rng := rand.New(rand.NewPCG(3, 3))
	page := make([]uint64, 2000)
	for range 1000 {
		for i := range page {
			page[i] = rng.Uint64()
		}
		s.Add(page)
	}
	b.ResetTimer()
	for range b.N {
		if s.Has(rng.Uint64()) {
			b.Fatal("found a hash never added")
		}
	}
}

package hashset

import (
	"math/rand/v2"
	"testing"
)

// The set answers as a map would, whatever the sizes of the pages added.
func TestSetAnswersAsAMap(t *testing.T) {
	for _, pages := range [][]int{{1}, {3, 3, 3}, {2500, 1, 7, 2500, 100}, {1, 2, 4, 8, 16, 32, 64, 1, 1, 1}} {
		var s Set
		want := map[uint64]bool{}
		rng := rand.New(rand.NewPCG(1, uint64(len(pages))))
		for _, n := range pages {
			page := make([]uint64, n)
			for i := range page {
				page[i] = rng.Uint64() % 50000 // repeats, as a read may have
				want[page[i]] = true
			}
			s.Add(page)
			for h := range uint64(50000) {
				if s.Has(h) != want[h] {
					t.Fatalf("pages %v: has(%d) = %v, want %v", pages, h, s.Has(h), want[h])
				}
			}
		}
		if len(s.runs) > 12 {
			t.Fatalf("pages %v: %d runs, want at most log2 of the pages", pages, len(s.runs))
		}
	}
}

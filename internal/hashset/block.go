package hashset

// block is one run of a Set. A large one is mapped outside the Go heap
// (block_unix.go): the hashes hold no pointers, and in the heap they
// counted toward the collector's goal, which the services set at three
// times the live heap (GOGC=200). A first sync's 2,000,000 hashes (16 MB)
// took the account-writer's peak RSS at 1,000,000 accounts from about 100
// to 173 MB that way (docs/performance.md).
type block struct {
	h     []uint64
	unmap func() // gives a mapped block back (nil: in the heap)
}

// offHeapBytes is the size from which a block is mapped: below it, a
// mapping's page and system calls cost more than the heap.
const offHeapBytes = 64 << 10

func newBlock(n int) *block {
	if n*8 >= offHeapBytes {
		if b := mapBlock(n); b != nil {
			return b
		}
	}
	return &block{h: make([]uint64, n)}
}

// free gives a mapped block back at once; the block is not used again.
func (b *block) free() {
	if b.unmap != nil {
		b.unmap()
		b.unmap, b.h = nil, nil
	}
}

//go:build unix

package hashset

import (
	"runtime"
	"syscall"
	"unsafe"
)

// mapBlock maps a block of n hashes (nil if the system refuses: the heap
// will do). A block the Set drops without free is unmapped once the
// collector finds it unreachable.
func mapBlock(n int) *block {
	mem, err := syscall.Mmap(-1, 0, n*8, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil
	}
	b := &block{h: unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(mem))), n)}
	cleanup := runtime.AddCleanup(b, func(m []byte) { _ = syscall.Munmap(m) }, mem)
	b.unmap = func() {
		cleanup.Stop()
		_ = syscall.Munmap(mem)
	}
	return b
}

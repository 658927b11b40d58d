//go:build !unix

package hashset

// mapBlock: blocks stay in the heap where mappings are not available.
func mapBlock(int) *block { return nil }

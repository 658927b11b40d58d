//go:build !linux

package cpusched

// Apply does nothing but say so: only Linux has SCHED_BATCH.
func Apply(p Policy) (Result, error) {
	if p != Batch {
		return Result{}, nil
	}
	return Result{}, ErrUnsupported
}

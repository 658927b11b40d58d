package directoryreader

import "context"

// background is a search of the directory that runs while the read goes
// on, its result handed over when it is needed. ldapdir reads the users
// over a connection of their own, so the directory can serve them and the
// other searches at once:
//
//   - the groups, read while the users start streaming (a user's
//     memberships are resolved once they are in);
//   - in a delta read, then, the users deleted since the watermark
//     (tombstones), read while the changed users are.
//
// Side by side the searches end sooner: Samba's prefork workers serve two
// connections at once when they land on different workers (figures in
// docs/performance.md).
//
// The searches on the first connection take turns: a server may keep one
// paged search per connection (OpenLDAP does).
type background[T any] struct {
	done chan struct{}
	v    T
	err  error
}

// inBackground starts fn.
func inBackground[T any](fn func() (T, error)) *background[T] {
	b := &background[T]{done: make(chan struct{})}
	go func() {
		defer close(b.done)
		b.v, b.err = fn()
	}()
	return b
}

// wait returns fn's result once it is there, or ctx's error if ctx ends
// first; a nil b (nothing to read) returns the zero value.
func (b *background[T]) wait(ctx context.Context) (T, error) {
	var zero T
	if b == nil {
		return zero, nil
	}
	select {
	case <-b.done:
		return b.v, b.err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// LockFile takes an exclusive flock on path (created if missing) and returns
// the function that releases it. flock locks belong to the open file, so the
// lock also serialises goroutines of one process that each call LockFile.
func LockFile(path string) (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create lock dir: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := flockRetry(f, syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("flock %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}

// heldLocks keeps the files of shared locks held for the life of the
// process (closing the file would release the lock).
var heldLocks sync.Map // path -> *os.File

// HoldShared takes a shared flock on path and keeps it until the process
// exits. Taking it twice in one process is a no-op.
func HoldShared(path string) error {
	if _, ok := heldLocks.Load(path); ok {
		return nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("open lock file: %w", err)
	}
	if err := flockRetry(f, syscall.LOCK_SH); err != nil {
		f.Close()
		return fmt.Errorf("flock %s: %w", path, err)
	}
	if _, loaded := heldLocks.LoadOrStore(path, f); loaded {
		f.Close()
	}
	return nil
}

// NobodyHolds reports whether no process (other than through heldLocks of
// this one, which callers check first) holds a lock on path.
func NobodyHolds(path string) bool {
	if _, ok := heldLocks.Load(path); ok {
		return false
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := flockRetry(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return false
	}
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return true
}

func flockRetry(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			return err
		}
	}
}

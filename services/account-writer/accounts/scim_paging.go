package accounts

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// pageCache lets a SCIM client that pages through a result
// (startIndex=1, 1001, 2001, …) continue after the last account of its
// previous page, instead of an OFFSET that reads every account before the
// page again: the key of the next page's first position is remembered. It
// also keeps a result's count for a few seconds, so that each page does
// not count a million accounts again. Bounded; per process.
//
// A page asked for with Query.Follows waits for the key its page before
// leaves (the api asks for the next two pages at once while a client
// pages, so that one is read while the other is encoded and sent).
type pageCache struct {
	mu      sync.Mutex
	next    map[string]accountKey
	totals  map[string]cachedTotal
	changed chan struct{} // closed when a key is remembered
}

type accountKey struct{ Domain, Username, ID string }

type cachedTotal struct {
	n  int
	at time.Time
}

const (
	pageCacheEntries = 4096
	totalTTL         = 5 * time.Second
	// followWait bounds how long a page waits for the page before it: a
	// page of 1,000 users takes milliseconds.
	followWait = time.Second
)

func pageKey(filter string, startIndex int) string { return filter + "\x00" + strconv.Itoa(startIndex) }

func (c *pageCache) after(filter string, startIndex int) (accountKey, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.next[pageKey(filter, startIndex)]
	return k, ok
}

// ErrPageBeforeNotRead answers a page asked for with Query.Follows whose
// page before was not read.
var ErrPageBeforeNotRead = errors.New("the page before was not read")

// waitAfter is after, waiting up to followWait for the page before to
// leave the key.
func (c *pageCache) waitAfter(ctx context.Context, filter string, startIndex int) (accountKey, error) {
	timer := time.NewTimer(followWait)
	defer timer.Stop()
	for {
		c.mu.Lock()
		k, ok := c.next[pageKey(filter, startIndex)]
		if c.changed == nil {
			c.changed = make(chan struct{})
		}
		changed := c.changed
		c.mu.Unlock()
		if ok {
			return k, nil
		}
		select {
		case <-changed:
		case <-timer.C:
			return accountKey{}, fmt.Errorf("%w: startIndex %d, within %s", ErrPageBeforeNotRead, startIndex, followWait)
		case <-ctx.Done():
			return accountKey{}, ctx.Err()
		}
	}
}

func (c *pageCache) remember(filter string, startIndex int, last accountKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.next == nil || len(c.next) >= pageCacheEntries {
		c.next = map[string]accountKey{}
	}
	c.next[pageKey(filter, startIndex)] = last
	if c.changed != nil {
		close(c.changed)
		c.changed = nil
	}
}

func (c *pageCache) total(filter string, now time.Time) (int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.totals[filter]
	return t.n, ok && now.Sub(t.at) < totalTTL
}

func (c *pageCache) setTotal(filter string, n int, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.totals == nil || len(c.totals) >= pageCacheEntries {
		c.totals = map[string]cachedTotal{}
	}
	c.totals[filter] = cachedTotal{n, now}
}

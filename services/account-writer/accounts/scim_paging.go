package accounts

import (
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
type pageCache struct {
	mu     sync.Mutex
	next   map[string]accountKey
	totals map[string]cachedTotal
}

type accountKey struct{ Domain, Username, ID string }

type cachedTotal struct {
	n  int
	at time.Time
}

const (
	pageCacheEntries = 4096
	totalTTL         = 5 * time.Second
)

func pageKey(filter string, startIndex int) string { return filter + "\x00" + strconv.Itoa(startIndex) }

func (c *pageCache) after(filter string, startIndex int) (accountKey, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.next[pageKey(filter, startIndex)]
	return k, ok
}

func (c *pageCache) remember(filter string, startIndex int, last accountKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.next == nil || len(c.next) >= pageCacheEntries {
		c.next = map[string]accountKey{}
	}
	c.next[pageKey(filter, startIndex)] = last
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

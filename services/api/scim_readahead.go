package api

import (
	"context"
	"sync"
	"time"

	"github.com/adsync/adsync/services/account-writer/accounts"
)

// readAhead fetches the pages of users after the one a SCIM client asked
// for while that one goes out: clients page through every user one
// request after another (startIndex, count), and without it each page
// waited for the account store, the encoding and the client in turn.
//
// It keeps aheadPages pages ahead of the client's request, asked for with
// Query.Follows: account-writer reads each after the last user of the
// one before, as soon as that one is read, and so reads the next page
// while this service decodes and sends the last (one page ahead, the
// account store waited while each page crossed NATS and was decoded).
//
// A page read ahead is handed only to the same client (token) asking for
// exactly that page within aheadFresh of its fetch; anything else is
// fetched as before. So a page may be up to aheadFresh older than the
// request, which SCIM allows (RFC 7644 3.4.2.4: paging is not a
// snapshot) and a client paging as fast as it can never notices.
type readAhead struct {
	fetch func(ctx context.Context, q accounts.Query) (accounts.SCIMUserPage, error)
	now   func() time.Time

	mu      sync.Mutex
	pending map[aheadKey]*aheadPage
}

// aheadFresh is how old a page read ahead may be when it is taken;
// aheadMax bounds the pages kept (about 0.5 MB each at count=1000).
const (
	aheadFresh = 250 * time.Millisecond
	aheadMax   = 8
	aheadPages = 2
)

type aheadKey struct {
	client       string
	filter       string
	start, count int
}

type aheadPage struct {
	done    chan struct{}
	page    accounts.SCIMUserPage
	err     error
	started time.Time
}

func newReadAhead(fetch func(context.Context, accounts.Query) (accounts.SCIMUserPage, error), now func() time.Time) *readAhead {
	return &readAhead{fetch: fetch, now: now, pending: map[aheadKey]*aheadPage{}}
}

// users returns the page q of client's listing, read ahead or fetched
// now, and reads the next ones ahead when there are more.
func (a *readAhead) users(ctx context.Context, client string, q accounts.Query) (accounts.SCIMUserPage, error) {
	key := aheadKey{client: client, filter: q.Filter, start: q.StartIndex, count: q.Count}
	page, ok := a.take(ctx, key)
	if !ok {
		var err error
		if page, err = a.fetch(ctx, q); err != nil {
			return page, err
		}
	}
	if q.Count == 0 || len(page.Users) < q.Count {
		return page, nil
	}
	for i := 1; i <= aheadPages; i++ {
		nq := q
		nq.StartIndex, nq.Follows = q.StartIndex+i*q.Count, true
		if nq.StartIndex > page.Total {
			break
		}
		a.start(aheadKey{client: client, filter: q.Filter, start: nq.StartIndex, count: q.Count}, nq)
	}
	return page, nil
}

// take returns the page read ahead for key if it is fresh and whole.
func (a *readAhead) take(ctx context.Context, key aheadKey) (accounts.SCIMUserPage, bool) {
	a.mu.Lock()
	p := a.pending[key]
	delete(a.pending, key)
	a.mu.Unlock()
	if p == nil || a.now().Sub(p.started) > aheadFresh {
		return accounts.SCIMUserPage{}, false
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		return accounts.SCIMUserPage{}, false
	}
	if p.err != nil || a.now().Sub(p.started) > aheadFresh {
		return accounts.SCIMUserPage{}, false
	}
	return p.page, true
}

// start reads the page key (query q) in the background, unless it is
// being read or aheadMax pages wait already; pages nobody took within
// aheadFresh are dropped.
func (a *readAhead) start(key aheadKey, q accounts.Query) {
	now := a.now()
	p := &aheadPage{done: make(chan struct{}), started: now}
	a.mu.Lock()
	for k, old := range a.pending {
		if now.Sub(old.started) > aheadFresh {
			delete(a.pending, k)
		}
	}
	if a.pending[key] != nil || len(a.pending) >= aheadMax {
		a.mu.Unlock()
		return
	}
	a.pending[key] = p
	a.mu.Unlock()
	go func() {
		defer close(p.done)
		ctx, cancel := context.WithTimeout(context.Background(), aheadFresh)
		defer cancel()
		p.page, p.err = a.fetch(ctx, q)
	}()
}

package diff

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/adsync/adsync/internal/infra/bus"
)

// Telling a removed account from one out of scope takes the directory,
// which only a job server's reader can ask: a network call. diff never
// makes one inside a transaction. The attempt's finish, in its
// transaction, collects the ids it needs classified and gives up
// (lookupNeeded); inTx looks them up with no transaction open and runs the
// handler's transaction again, which finds its answers in ctx.

// lookupNeeded asks inTx to look ids up in a domain's directory.
type lookupNeeded struct {
	domain string
	ids    []string
}

func (e *lookupNeeded) Error() string {
	return fmt.Sprintf("%d accounts missing from %s need looking up", len(e.ids), e.domain)
}

// lookups is what the directory said of ids, for the transaction run again.
type lookups struct {
	domain string
	found  Found
	asked  map[string]bool
}

type lookupsKey struct{}

// lookedUp returns the answers inTx put in ctx for a domain, or nil.
func lookedUp(ctx context.Context, domain string) *lookups {
	l, _ := ctx.Value(lookupsKey{}).(*lookups)
	if l == nil || l.domain != domain {
		return nil
	}
	return l
}

// inTx runs fn in a transaction; when fn needs ids looked up, it looks
// them up and runs fn once more in a new transaction.
func (s *Service) inTx(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) error {
	var known *lookups
	for try := 0; ; try++ {
		run := ctx
		if known != nil {
			run = context.WithValue(ctx, lookupsKey{}, known)
		}
		err := s.state.InTx(run, func(tx *Tx) error { return fn(run, tx) })
		var need *lookupNeeded
		if !errors.As(err, &need) {
			return err
		}
		if try > 0 {
			// The first answers did not cover what the finish needs now:
			// the run's record changed meanwhile (another delivery).
			return bus.RetryAfter(time.Second, err)
		}
		found, err := s.dir.Lookup(ctx, need.domain, need.ids)
		if err != nil {
			return bus.RetryAfter(5*time.Second, fmt.Errorf("look up %d accounts missing from %s: %w", len(need.ids), need.domain, err))
		}
		known = &lookups{domain: need.domain, found: found, asked: make(map[string]bool, len(need.ids))}
		for _, id := range need.ids {
			known.asked[id] = true
		}
	}
}

package app

import (
	"context"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/adsync/adsync/internal/admin"
	"github.com/adsync/adsync/internal/holds"
	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/internal/jobs"
	"github.com/adsync/adsync/internal/leases"
	"github.com/adsync/adsync/internal/settings"
	"github.com/adsync/adsync/internal/signin"
	"github.com/adsync/adsync/internal/watermarks"
)

// Stores are the key-value buckets shared by every adsync process.
type Stores struct {
	Jobs     *jobs.Store
	Settings *settings.Store
	JobsKV   jetstream.KeyValue
	Leases   *leases.Store
	Servers  jetstream.KeyValue
	Ticks    jetstream.KeyValue
	Holds    *holds.Store
	Marks    *watermarks.Store
	// Admins and Sessions are the console's (OpenConsole): only the api
	// service and the command line open them.
	Admins   *signin.Admins
	Sessions *signin.Sessions
}

// OpenConsole opens the console's buckets (creating them when the running
// services are older than this process).
func (st *Stores) OpenConsole(ctx context.Context, b *bus.Bus) error {
	kv, err := openEach(func(name string) (jetstream.KeyValue, error) { return b.KVOrCreate(ctx, name) },
		bus.BucketAdmins, bus.BucketSessions)
	if err != nil {
		return err
	}
	st.Admins = &signin.Admins{KV: kv[0], Now: time.Now}
	st.Sessions = &signin.Sessions{KV: kv[1], Now: time.Now}
	return nil
}

// OpenStores opens the buckets (they must be provisioned).
func OpenStores(ctx context.Context, b *bus.Bus) (*Stores, error) {
	kv, err := openEach(func(name string) (jetstream.KeyValue, error) { return b.KV(ctx, name) },
		bus.BucketJobs, bus.BucketSettings, bus.BucketLeases, bus.BucketServers, bus.BucketTicks, bus.BucketHolds, bus.BucketMarks)
	if err != nil {
		return nil, err
	}
	return &Stores{
		JobsKV: kv[0], Jobs: &jobs.Store{KV: kv[0]}, Settings: &settings.Store{KV: kv[1]}, Leases: &leases.Store{KV: kv[2]},
		Servers: kv[3], Ticks: kv[4], Holds: &holds.Store{KV: kv[5]}, Marks: &watermarks.Store{KV: kv[6]},
	}, nil
}

// openEach opens the buckets side by side and returns them in the order
// named, or the first error in that order. Each is a JetStream API round
// trip, and every command of the command line opens them all before it
// does anything: one after another they were a third of a command's time.
func openEach(open func(name string) (jetstream.KeyValue, error), names ...string) ([]jetstream.KeyValue, error) {
	kv, errs := make([]jetstream.KeyValue, len(names)), make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() { kv[i], errs[i] = open(name) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return kv, nil
}

// NewOps returns the administrators' operations over the shared stores,
// for the command line and the api service.
func NewOps(b *bus.Bus, st *Stores, domains []string, now func() time.Time) *admin.Ops {
	return &admin.Ops{Jobs: st.Jobs, Settings: st.Settings, Holds: st.Holds, Leases: st.Leases, Ticks: st.Ticks, Admins: st.Admins,
		Pub: b, JS: b.JS, NC: b.NC, Domains: domains, MaxRequeueAttempts: bus.MaxRequeueAttempts, Now: now}
}

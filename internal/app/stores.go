package app

import (
	"context"
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
	adminsKV, err := b.KVOrCreate(ctx, bus.BucketAdmins)
	if err != nil {
		return err
	}
	sessionsKV, err := b.KVOrCreate(ctx, bus.BucketSessions)
	if err != nil {
		return err
	}
	st.Admins = &signin.Admins{KV: adminsKV, Now: time.Now}
	st.Sessions = &signin.Sessions{KV: sessionsKV, Now: time.Now}
	return nil
}

// OpenStores opens the buckets (they must be provisioned).
func OpenStores(ctx context.Context, b *bus.Bus) (*Stores, error) {
	open := func(name string) (jetstream.KeyValue, error) { return b.KV(ctx, name) }
	var st Stores
	var err error
	if st.JobsKV, err = open(bus.BucketJobs); err != nil {
		return nil, err
	}
	settingsKV, err := open(bus.BucketSettings)
	if err != nil {
		return nil, err
	}
	leasesKV, err := open(bus.BucketLeases)
	if err != nil {
		return nil, err
	}
	st.Leases = &leases.Store{KV: leasesKV}
	if st.Servers, err = open(bus.BucketServers); err != nil {
		return nil, err
	}
	if st.Ticks, err = open(bus.BucketTicks); err != nil {
		return nil, err
	}
	holdsKV, err := open(bus.BucketHolds)
	if err != nil {
		return nil, err
	}
	st.Holds = &holds.Store{KV: holdsKV}
	marksKV, err := open(bus.BucketMarks)
	if err != nil {
		return nil, err
	}
	st.Marks = &watermarks.Store{KV: marksKV}
	st.Jobs = &jobs.Store{KV: st.JobsKV}
	st.Settings = &settings.Store{KV: settingsKV}
	return &st, nil
}

// NewOps returns the administrators' operations over the shared stores,
// for the command line and the api service.
func NewOps(b *bus.Bus, st *Stores, domains []string, now func() time.Time) *admin.Ops {
	return &admin.Ops{Jobs: st.Jobs, Settings: st.Settings, Holds: st.Holds, Leases: st.Leases, Ticks: st.Ticks, Admins: st.Admins,
		Pub: b, JS: b.JS, NC: b.NC, Domains: domains, MaxRequeueAttempts: bus.MaxRequeueAttempts, Now: now}
}

package bus

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// What a process newer than the running services creates for itself: a
// stream or bucket of the topology that is missing, opened or else
// created, one way for both.

// EnsureAuditLog creates the audit log's stream if it is missing: a
// command line or API newer than the running services finds no audit log,
// and must not make a change it cannot record.
func (b *Bus) EnsureAuditLog(ctx context.Context) error {
	_, err := openOrCreate(ctx, "the audit log (stream "+StreamAudit+")", jetstream.ErrStreamNotFound,
		func(ctx context.Context) (jetstream.Stream, error) { return b.JS.Stream(ctx, StreamAudit) },
		func(ctx context.Context) (jetstream.Stream, error) {
			for _, c := range b.Topology.streams() {
				if c.Name == StreamAudit {
					s, err := b.JS.CreateStream(ctx, c)
					if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) { // created meanwhile
						return b.JS.Stream(ctx, StreamAudit)
					}
					return s, err
				}
			}
			return nil, ErrNotProvisioned
		})
	return err
}

// KVOrCreate opens one of adsync's buckets, creating it if the running
// services are older than this process and have not (the console's).
func (b *Bus) KVOrCreate(ctx context.Context, bucket string) (jetstream.KeyValue, error) {
	return openOrCreate(ctx, "bucket "+bucket, jetstream.ErrBucketNotFound,
		func(ctx context.Context) (jetstream.KeyValue, error) { return b.JS.KeyValue(ctx, bucket) },
		func(ctx context.Context) (jetstream.KeyValue, error) {
			for _, c := range b.Topology.buckets() {
				if c.Bucket == bucket {
					return b.JS.CreateKeyValue(ctx, c)
				}
			}
			return nil, ErrNotProvisioned
		})
}

// openOrCreate opens what, or creates it when opening finds it missing.
func openOrCreate[T any](ctx context.Context, what string, missing error, open, create func(context.Context) (T, error)) (T, error) {
	v, err := open(ctx)
	if err == nil {
		return v, nil
	}
	if !errors.Is(err, missing) {
		return v, fmt.Errorf("open %s: %w", what, err)
	}
	if v, err = create(ctx); err != nil {
		if errors.Is(err, ErrNotProvisioned) {
			return v, err
		}
		return v, fmt.Errorf("%s is missing and could not be created: %w (run adsync provision as a NATS administrator)", what, err)
	}
	return v, nil
}

package bus

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// What a process newer than the running services creates for itself.

// EnsureAuditLog creates the audit log's stream if it is missing: a
// command line or API newer than the running services finds no audit log,
// and must not make a change it cannot record.
func (b *Bus) EnsureAuditLog(ctx context.Context) error {
	_, err := b.JS.Stream(ctx, StreamAudit)
	if err == nil {
		return nil
	}
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("audit log: %w", err)
	}
	for _, sc := range b.Topology.streams() {
		if sc.Name == StreamAudit {
			if _, err := b.JS.CreateStream(ctx, sc); err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
				return fmt.Errorf("the audit log (stream %s) is missing and could not be created: %w (run adsync provision as a NATS administrator)", StreamAudit, err)
			}
		}
	}
	return nil
}

// KVOrCreate opens one of adsync's buckets, creating it if the running
// services are older than this process and have not (the console's).
func (b *Bus) KVOrCreate(ctx context.Context, bucket string) (jetstream.KeyValue, error) {
	kv, err := b.JS.KeyValue(ctx, bucket)
	if !errors.Is(err, jetstream.ErrBucketNotFound) {
		if err != nil {
			return nil, fmt.Errorf("open bucket %s: %w", bucket, err)
		}
		return kv, nil
	}
	for _, c := range b.Topology.buckets() {
		if c.Bucket == bucket {
			kv, err := b.JS.CreateKeyValue(ctx, c)
			if err != nil {
				return nil, fmt.Errorf("bucket %s is missing and could not be created: %w (run adsync provision as a NATS administrator)", bucket, err)
			}
			return kv, nil
		}
	}
	return nil, ErrNotProvisioned
}

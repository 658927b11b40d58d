// Package alerts keeps the open alerts (bucket adsync_alerts): one key
// per alert that fired and is not resolved yet, so that it is sent once
// per occurrence and its resolution is sent when a good run ends it.
//
// Owner: the notifier, the only service that writes the bucket. The
// console reads it (Notifications).
package alerts

import (
	"context"
	"maps"
	"slices"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/adsync/adsync/internal/infra/typedkv"
)

// Open is what the bucket keeps of an open alert (its JSON has the Go
// field names, as the notifier has always written it).
type Open struct {
	ID, Kind, Job, Domain, RunID, Title, FiredAt string
}

// Bucket is the open alerts bucket.
func Bucket(kv jetstream.KeyValue) typedkv.Bucket[Open] {
	return typedkv.Bucket[Open]{KV: kv, What: "open alert"}
}

// List returns the open alerts, by key.
func List(ctx context.Context, kv jetstream.KeyValue) ([]Open, error) {
	all, err := Bucket(kv).All(ctx)
	if err != nil {
		return nil, err
	}
	var out []Open
	for _, k := range slices.Sorted(maps.Keys(all)) {
		if a := all[k]; a.Kind != "" {
			out = append(out, a)
		}
	}
	return out, nil
}

// Package typedkv keeps one JSON value type per JetStream key-value
// bucket: the one way adsync's buckets (holds, leases, watermarks,
// settings, sessions, administrators, alerts, heartbeats) read and write
// their values, so that missing keys, unreadable values and concurrent
// writers are handled alike.
package typedkv

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"
)

// ErrUnreadable marks a stored value that does not decode; each caller
// decides what that means (a lease: free; a held plan: an error).
var ErrUnreadable = errors.New("unreadable value")

// ErrConflict means another writer changed the key meanwhile (a create
// of a key that exists, an update or delete at an older revision).
var ErrConflict = errors.New("changed concurrently")

// Bucket holds values of type T; What names them in errors ("held plan").
type Bucket[T any] struct {
	KV   jetstream.KeyValue
	What string
}

// Get returns the value at key and its revision; nil and 0 if there is
// none. A value that does not decode returns its revision and an error
// wrapping ErrUnreadable.
func (b Bucket[T]) Get(ctx context.Context, key string) (*T, uint64, error) {
	e, err := b.KV.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read %s %s: %w", b.What, key, err)
	}
	var v T
	if err := json.Unmarshal(e.Value(), &v); err != nil {
		return nil, e.Revision(), fmt.Errorf("%s %s: %w: %v", b.What, key, ErrUnreadable, err)
	}
	return &v, e.Revision(), nil
}

// Put stores v at key, whatever was there.
func (b Bucket[T]) Put(ctx context.Context, key string, v T) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s %s: %w", b.What, key, err)
	}
	if _, err := b.KV.Put(ctx, key, raw); err != nil {
		return fmt.Errorf("save %s %s: %w", b.What, key, err)
	}
	return nil
}

// Write stores v at key if the key is at revision rev (0: absent), and
// returns the new revision; ErrConflict if another writer came first.
func (b Bucket[T]) Write(ctx context.Context, key string, v T, rev uint64) (uint64, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return 0, fmt.Errorf("encode %s %s: %w", b.What, key, err)
	}
	var next uint64
	if rev == 0 {
		next, err = b.KV.Create(ctx, key, raw)
	} else {
		next, err = b.KV.Update(ctx, key, raw, rev)
	}
	if conflict(err) {
		return 0, fmt.Errorf("%s %s: %w", b.What, key, ErrConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("save %s %s: %w", b.What, key, err)
	}
	return next, nil
}

// Delete removes key; at revision rev only, if rev is not 0 (else
// ErrConflict).
func (b Bucket[T]) Delete(ctx context.Context, key string, rev uint64) error {
	var opts []jetstream.KVDeleteOpt
	if rev != 0 {
		opts = append(opts, jetstream.LastRevision(rev))
	}
	err := b.KV.Delete(ctx, key, opts...)
	if conflict(err) {
		return fmt.Errorf("%s %s: %w", b.What, key, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("remove %s %s: %w", b.What, key, err)
	}
	return nil
}

// All returns every value that decodes, each with its key; values that
// do not decode, or vanish while listed, are skipped.
func (b Bucket[T]) All(ctx context.Context) (map[string]T, error) {
	lister, err := b.KV.ListKeys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return map[string]T{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", b.What, err)
	}
	out := map[string]T{}
	for k := range lister.Keys() {
		v, _, err := b.Get(ctx, k)
		if err != nil || v == nil {
			continue
		}
		out[k] = *v
	}
	return out, nil
}

func conflict(err error) bool {
	if errors.Is(err, jetstream.ErrKeyExists) {
		return true
	}
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}

// Package watermarks keeps, per domain, where the next delta read starts
// (a JetStream key-value bucket): the reader reads it, the account writer
// advances it once a run's changes are applied.
//
// Owner: account-writer, the only service that writes the bucket. A
// watermark is only valid against the accounts it was applied to, and
// account-writer alone knows when a run's changes are applied (or a held
// plan approved). The reader takes it (directory.completed), diff carries
// it (changes.completed), account-writer keeps it with the run and writes
// it here; nothing else writes it.
package watermarks

import (
	"context"
	"errors"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/infra/typedkv"
)

// Store keeps watermarks, one key per domain.
type Store struct {
	KV jetstream.KeyValue
}

func key(domain string) string { return "domain." + domain }

func (s *Store) bucket() typedkv.Bucket[events.Watermark] {
	return typedkv.Bucket[events.Watermark]{KV: s.KV, What: "watermark"}
}

// Get returns a domain's watermark, or nil.
func (s *Store) Get(ctx context.Context, domain string) (*events.Watermark, error) {
	w, _, err := s.bucket().Get(ctx, key(domain))
	if errors.Is(err, typedkv.ErrUnreadable) {
		return nil, nil // unreadable: a full read starts over
	}
	return w, err
}

// Put advances a domain's watermark.
func (s *Store) Put(ctx context.Context, domain string, w events.Watermark) error {
	return s.bucket().Put(ctx, key(domain), w)
}

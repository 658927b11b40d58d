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
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
)

// Store keeps watermarks, one key per domain.
type Store struct {
	KV jetstream.KeyValue
}

func key(domain string) string { return "domain." + domain }

// Get returns a domain's watermark, or nil.
func (s *Store) Get(ctx context.Context, domain string) (*events.Watermark, error) {
	e, err := s.KV.Get(ctx, key(domain))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read watermark of %s: %w", domain, err)
	}
	var w events.Watermark
	if err := json.Unmarshal(e.Value(), &w); err != nil {
		return nil, nil // unreadable: a full read starts over
	}
	return &w, nil
}

// Put advances a domain's watermark.
func (s *Store) Put(ctx context.Context, domain string, w events.Watermark) error {
	raw, _ := json.Marshal(w)
	if _, err := s.KV.Put(ctx, key(domain), raw); err != nil {
		return fmt.Errorf("save watermark of %s: %w", domain, err)
	}
	return nil
}

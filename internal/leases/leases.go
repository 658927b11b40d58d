// Package leases keeps one lease per job in a JetStream key-value bucket:
// guard takes it when it approves a run and releases it when it handles the
// run's sync.completed, and a run that never ends stops blocking its job
// when the lease expires.
//
// Owner: guard, the only service that writes the bucket. Others read it.
package leases

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/adsync/adsync/internal/infra/typedkv"
)

// Lease marks a job's run as in progress until it finishes or expires.
type Lease struct {
	RunID     string    `json:"run_id"`
	Acquired  time.Time `json:"acquired_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Store keeps leases.
type Store struct {
	KV jetstream.KeyValue
}

func key(job string) string { return "job." + job }

func (s *Store) bucket() typedkv.Bucket[Lease] { return typedkv.Bucket[Lease]{KV: s.KV, What: "lease"} }

// ErrRace means another guard changed the lease meanwhile.
var ErrRace = errors.New("lease changed concurrently")

// Current returns the job's lease and its revision (nil if none).
func (s *Store) Current(ctx context.Context, job string) (*Lease, uint64, error) {
	l, rev, err := s.bucket().Get(ctx, key(job))
	if errors.Is(err, typedkv.ErrUnreadable) {
		return nil, rev, nil // unreadable: treat as free, overwrite it
	}
	return l, rev, err
}

// Take stores l, expecting the lease at revision rev (0: no lease).
func (s *Store) Take(ctx context.Context, job string, l Lease, rev uint64) error {
	_, err := s.bucket().Write(ctx, key(job), l, rev)
	if errors.Is(err, typedkv.ErrConflict) {
		return ErrRace
	}
	return err
}

// Release removes the job's lease if it belongs to runID.
func (s *Store) Release(ctx context.Context, job, runID string) error {
	l, rev, err := s.Current(ctx, job)
	if err != nil || l == nil || l.RunID != runID {
		return err
	}
	err = s.bucket().Delete(ctx, key(job), rev)
	if errors.Is(err, typedkv.ErrConflict) {
		return nil // taken over meanwhile by a newer run
	}
	return err
}

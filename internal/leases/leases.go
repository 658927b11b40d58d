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
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"
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

// ErrRace means another guard changed the lease meanwhile.
var ErrRace = errors.New("lease changed concurrently")

// Current returns the job's lease and its revision (nil if none).
func (s *Store) Current(ctx context.Context, job string) (*Lease, uint64, error) {
	e, err := s.KV.Get(ctx, key(job))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read lease of job %q: %w", job, err)
	}
	var l Lease
	if err := json.Unmarshal(e.Value(), &l); err != nil {
		return nil, e.Revision(), nil // unreadable: treat as free, overwrite it
	}
	return &l, e.Revision(), nil
}

// Take stores l, expecting the lease at revision rev (0: no lease).
func (s *Store) Take(ctx context.Context, job string, l Lease, rev uint64) error {
	raw, _ := json.Marshal(l)
	var err error
	if rev == 0 {
		_, err = s.KV.Create(ctx, key(job), raw)
	} else {
		_, err = s.KV.Update(ctx, key(job), raw, rev)
	}
	if errors.Is(err, jetstream.ErrKeyExists) || wrongSequence(err) {
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
	err = s.KV.Delete(ctx, key(job), jetstream.LastRevision(rev))
	if wrongSequence(err) {
		return nil // taken over meanwhile by a newer run
	}
	return err
}

func wrongSequence(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}

package guard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Lease marks a job's run as in progress until it finishes or expires.
type Lease struct {
	RunID     string    `json:"run_id"`
	Acquired  time.Time `json:"acquired_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

func leaseKey(job string) string { return "job." + job }

// currentLease returns the job's lease and its revision (nil if none).
func currentLease(ctx context.Context, kv jetstream.KeyValue, job string) (*Lease, uint64, error) {
	e, err := kv.Get(ctx, leaseKey(job))
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

// errLeaseRace means another guard changed the lease meanwhile.
var errLeaseRace = errors.New("lease changed concurrently")

// takeLease stores l, expecting the lease at revision rev (0: no lease).
func takeLease(ctx context.Context, kv jetstream.KeyValue, job string, l Lease, rev uint64) error {
	raw, _ := json.Marshal(l)
	var err error
	if rev == 0 {
		_, err = kv.Create(ctx, leaseKey(job), raw)
	} else {
		_, err = kv.Update(ctx, leaseKey(job), raw, rev)
	}
	if errors.Is(err, jetstream.ErrKeyExists) || isWrongSequence(err) {
		return errLeaseRace
	}
	return err
}

func isWrongSequence(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}

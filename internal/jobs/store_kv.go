package jobs

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/internal/infra/typedkv"
)

// ErrNotFound is returned for a job that does not exist.
var ErrNotFound = errors.New("no such job")

// ErrExists is returned when creating a job whose name is taken.
var ErrExists = errors.New("a job with this name exists")

// Store keeps jobs in a JetStream key-value bucket, one key per job.
type Store struct {
	KV jetstream.KeyValue
}

func key(name string) string { return "job." + name }

func (s *Store) bucket() typedkv.Bucket[Job] { return typedkv.Bucket[Job]{KV: s.KV, What: "job"} }

// Create stores a new job; it fails if the name is taken.
func (s *Store) Create(ctx context.Context, j *Job) error {
	_, err := s.bucket().Write(ctx, key(j.Name), *j, 0)
	if errors.Is(err, typedkv.ErrConflict) {
		return fmt.Errorf("job %q: %w", j.Name, ErrExists)
	}
	return err
}

// Get returns a job and its revision.
func (s *Store) Get(ctx context.Context, name string) (*Job, uint64, error) {
	j, rev, err := s.bucket().Get(ctx, key(name))
	if err == nil && j == nil {
		return nil, 0, fmt.Errorf("job %q: %w", name, ErrNotFound)
	}
	return j, rev, err
}

// Decode decodes a stored job.
func Decode(raw []byte) (*Job, error) {
	var j Job
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, fmt.Errorf("stored job is unreadable: %w", err)
	}
	return &j, nil
}

// Update changes a job with fn, retrying on concurrent changes.
func (s *Store) Update(ctx context.Context, name string, fn func(*Job) error) (*Job, error) {
	for range 10 {
		j, rev, err := s.Get(ctx, name)
		if err != nil {
			return nil, err
		}
		if err := fn(j); err != nil {
			return nil, err
		}
		if _, err := s.bucket().Write(ctx, key(name), *j, rev); err != nil {
			if errors.Is(err, typedkv.ErrConflict) {
				continue // changed meanwhile: read again
			}
			return nil, err
		}
		return j, nil
	}
	return nil, fmt.Errorf("update job %q: changed concurrently too often", name)
}

// Delete removes a job.
func (s *Store) Delete(ctx context.Context, name string) error {
	if _, _, err := s.Get(ctx, name); err != nil {
		return err
	}
	return s.bucket().Delete(ctx, key(name), 0)
}

// List returns every job, sorted by name.
func (s *Store) List(ctx context.Context) ([]*Job, error) {
	lister, err := s.KV.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	var names []string
	for k := range lister.Keys() {
		if len(k) > 4 && k[:4] == "job." {
			names = append(names, k[4:])
		}
	}
	slices.Sort(names)
	var out []*Job
	for _, n := range names {
		j, _, err := s.Get(ctx, n)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

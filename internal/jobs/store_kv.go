package jobs

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"
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

// Create stores a new job; it fails if the name is taken.
func (s *Store) Create(ctx context.Context, j *Job) error {
	raw, err := json.Marshal(j)
	if err != nil {
		return err
	}
	if _, err := s.KV.Create(ctx, key(j.Name), raw); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			return fmt.Errorf("job %q: %w", j.Name, ErrExists)
		}
		return fmt.Errorf("store job %q: %w", j.Name, err)
	}
	return nil
}

// Get returns a job and its revision.
func (s *Store) Get(ctx context.Context, name string) (*Job, uint64, error) {
	e, err := s.KV.Get(ctx, key(name))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, fmt.Errorf("job %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read job %q: %w", name, err)
	}
	j, err := Decode(e.Value())
	if err != nil {
		return nil, 0, fmt.Errorf("job %q: %w", name, err)
	}
	return j, e.Revision(), nil
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
		raw, err := json.Marshal(j)
		if err != nil {
			return nil, err
		}
		if _, err := s.KV.Update(ctx, key(name), raw, rev); err != nil {
			if errors.Is(err, jetstream.ErrKeyExists) {
				continue // changed meanwhile: read again
			}
			return nil, fmt.Errorf("update job %q: %w", name, err)
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
	if err := s.KV.Delete(ctx, key(name)); err != nil {
		return fmt.Errorf("delete job %q: %w", name, err)
	}
	return nil
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

// Package holds records the plans that the deletion guard held, one per
// domain, in a JetStream key-value bucket: diff writes them, guard refuses
// new runs of a domain that has one, and the command line lists them.
//
// Owner: diff, the only service that writes the bucket: it records a hold
// before it announces it (changes.completed) and deletes it when it
// handles the decision (plan.decided). Others read it; an administrator
// decides by publishing plan.decided, never by writing here.
package holds

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/infra/typedkv"
)

// Plan is a held plan: the run and domain it belongs to, and why.
type Plan struct {
	Domain string      `json:"domain"`
	RunID  string      `json:"run_id"`
	Job    string      `json:"job"`
	Hold   events.Hold `json:"hold"`
	At     time.Time   `json:"at"`
}

// Store keeps held plans, one key per domain.
type Store struct {
	KV jetstream.KeyValue
}

func key(domain string) string { return "domain." + domain }

func (s *Store) bucket() typedkv.Bucket[Plan] {
	return typedkv.Bucket[Plan]{KV: s.KV, What: "held plan"}
}

// Put records a held plan.
func (s *Store) Put(ctx context.Context, p Plan) error { return s.bucket().Put(ctx, key(p.Domain), p) }

// Get returns a domain's held plan, or nil.
func (s *Store) Get(ctx context.Context, domain string) (*Plan, error) {
	p, _, err := s.bucket().Get(ctx, key(domain))
	return p, err
}

// Delete removes a domain's held plan if it belongs to runID.
func (s *Store) Delete(ctx context.Context, domain, runID string) error {
	p, err := s.Get(ctx, domain)
	if err != nil || p == nil || p.RunID != runID {
		return err
	}
	return s.bucket().Delete(ctx, key(domain), 0)
}

// List returns every held plan, by domain.
func (s *Store) List(ctx context.Context) ([]Plan, error) {
	all, err := s.bucket().All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Plan, 0, len(all))
	for _, k := range slices.Sorted(maps.Keys(all)) {
		out = append(out, all[k])
	}
	return out, nil
}

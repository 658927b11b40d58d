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
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
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

// Put records a held plan.
func (s *Store) Put(ctx context.Context, p Plan) error {
	raw, _ := json.Marshal(p)
	if _, err := s.KV.Put(ctx, key(p.Domain), raw); err != nil {
		return fmt.Errorf("record held plan of %s: %w", p.Domain, err)
	}
	return nil
}

// Get returns a domain's held plan, or nil.
func (s *Store) Get(ctx context.Context, domain string) (*Plan, error) {
	e, err := s.KV.Get(ctx, key(domain))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read held plan of %s: %w", domain, err)
	}
	var p Plan
	if err := json.Unmarshal(e.Value(), &p); err != nil {
		return nil, fmt.Errorf("held plan of %s is unreadable: %w", domain, err)
	}
	return &p, nil
}

// Delete removes a domain's held plan if it belongs to runID.
func (s *Store) Delete(ctx context.Context, domain, runID string) error {
	p, err := s.Get(ctx, domain)
	if err != nil || p == nil || p.RunID != runID {
		return err
	}
	if err := s.KV.Delete(ctx, key(domain)); err != nil {
		return fmt.Errorf("remove held plan of %s: %w", domain, err)
	}
	return nil
}

// List returns every held plan.
func (s *Store) List(ctx context.Context) ([]Plan, error) {
	lister, err := s.KV.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	var out []Plan
	for k := range lister.Keys() {
		e, err := s.KV.Get(ctx, k)
		if err != nil {
			continue
		}
		var p Plan
		if json.Unmarshal(e.Value(), &p) == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

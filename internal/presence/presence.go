// Package presence records which adsync processes are alive (heartbeats in
// a JetStream key-value bucket whose entries expire) and whether a job
// server is among them.
package presence

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/adsync/adsync/internal/infra/typedkv"
)

// Heartbeat is one process's presence record.
type Heartbeat struct {
	ID        string    `json:"id"`
	Host      string    `json:"host"`
	PID       int       `json:"pid"`
	Services  []string  `json:"services"`
	JobServer bool      `json:"job_server"`
	Version   string    `json:"version"`
	At        time.Time `json:"at"`
}

// Put writes one heartbeat.
func Put(ctx context.Context, kv jetstream.KeyValue, hb Heartbeat, now time.Time) error {
	hb.At = now.UTC()
	return heartbeats(kv).Put(ctx, hb.ID, hb)
}

func heartbeats(kv jetstream.KeyValue) typedkv.Bucket[Heartbeat] {
	return typedkv.Bucket[Heartbeat]{KV: kv, What: "heartbeat"}
}

// Beat writes hb every interval until ctx ends, then removes it. Write the
// first heartbeat with Put before starting to serve.
func Beat(ctx context.Context, kv jetstream.KeyValue, hb Heartbeat, interval time.Duration, now func() time.Time, log *slog.Logger) {
	put := func() {
		pctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := Put(pctx, kv, hb, now()); err != nil {
			log.Warn("heartbeat not recorded", "err", err)
		}
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			dctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_ = kv.Delete(dctx, hb.ID)
			cancel()
			return
		case <-t.C:
			put()
		}
	}
}

// List returns the heartbeats younger than ttl.
func List(ctx context.Context, kv jetstream.KeyValue, now time.Time, ttl time.Duration) ([]Heartbeat, error) {
	all, err := heartbeats(kv).All(ctx)
	if err != nil {
		return nil, err
	}
	var out []Heartbeat
	for _, k := range slices.Sorted(maps.Keys(all)) {
		if hb := all[k]; now.Sub(hb.At) <= ttl {
			out = append(out, hb)
		}
	}
	return out, nil
}

// JobServerAlive reports whether a live job server runs the given service.
func JobServerAlive(ctx context.Context, kv jetstream.KeyValue, service string, now time.Time, ttl time.Duration) (bool, error) {
	hbs, err := List(ctx, kv, now, ttl)
	if err != nil {
		return false, err
	}
	for _, hb := range hbs {
		if hb.JobServer && slices.Contains(hb.Services, service) {
			return true, nil
		}
	}
	return false, nil
}

package e2e

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/bus"
)

// savedMark returns the watermark saved for a domain, and a function that
// saves another in its place.
func savedMark(t *testing.T, sys *System, domain string) (events.Watermark, func(events.Watermark)) {
	t.Helper()
	nc, err := nats.Connect(sys.NATSURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	kv, err := js.KeyValue(ctx, bus.BucketMarks)
	if err != nil {
		t.Fatal(err)
	}
	key := "domain." + domain
	e, err := kv.Get(ctx, key)
	if err != nil {
		t.Fatalf("watermark of %s: %v", domain, err)
	}
	var w events.Watermark
	if err := json.Unmarshal(e.Value(), &w); err != nil {
		t.Fatalf("watermark of %s: %v", domain, err)
	}
	return w, func(w events.Watermark) {
		t.Helper()
		raw, err := json.Marshal(w)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Put(ctx, key, raw); err != nil {
			t.Fatal(err)
		}
	}
}

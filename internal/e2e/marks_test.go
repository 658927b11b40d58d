package e2e

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/internal/watermarks"
)

// savedMark returns the watermark saved for a domain, and a function that
// saves another in its place.
func savedMark(t *testing.T, sys *System, domain string) (events.Watermark, func(events.Watermark)) {
	t.Helper()
	nc, err := nats.Connect(sys.NATSURL, sys.NATSOptions()...)
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
	marks := &watermarks.Store{KV: kv}
	w, err := marks.Get(ctx, domain)
	if err != nil {
		t.Fatal(err)
	}
	if w == nil {
		t.Fatalf("no readable watermark saved for %s", domain)
	}
	return *w, func(w events.Watermark) {
		t.Helper()
		if err := marks.Put(ctx, domain, w); err != nil {
			t.Fatal(err)
		}
	}
}

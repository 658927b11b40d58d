package bus_test

import (
	"context"
	"errors"
	"testing"

	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/internal/infra/bus/bustest"
)

// A process newer than the running services finds the audit log's stream
// or a bucket missing (they were provisioned by an older version): it
// creates them from the topology, and refuses a bucket the topology does
// not know.
func TestANewerProcessCreatesWhatAnOlderTopologyLacks(t *testing.T) {
	b := bustest.Start(t, bus.TopologyOptions{})
	ctx := context.Background()
	if err := b.JS.DeleteStream(ctx, bus.StreamAudit); err != nil {
		t.Fatal(err)
	}
	if err := b.JS.DeleteKeyValue(ctx, bus.BucketAdmins); err != nil {
		t.Fatal(err)
	}
	for range 2 { // missing, then present
		if err := b.EnsureAuditLog(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := b.JS.Stream(ctx, bus.StreamAudit); err != nil {
			t.Fatalf("audit log after EnsureAuditLog: %v", err)
		}
		kv, err := b.KVOrCreate(ctx, bus.BucketAdmins)
		if err != nil {
			t.Fatal(err)
		}
		if kv.Bucket() != bus.BucketAdmins {
			t.Fatalf("bucket %q", kv.Bucket())
		}
	}
	if _, err := b.KVOrCreate(ctx, "adsync_no_such_bucket"); !errors.Is(err, bus.ErrNotProvisioned) {
		t.Fatalf("an unknown bucket: %v, want ErrNotProvisioned", err)
	}
}

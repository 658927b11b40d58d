package typedkv_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/internal/infra/bus/bustest"
	"github.com/adsync/adsync/internal/infra/typedkv"
)

type plan struct {
	RunID string `json:"run_id"`
	N     int    `json:"n"`
}

// The contract every bucket of adsync relies on, on a real JetStream.
func TestBucket(t *testing.T) {
	b := bustest.Start(t, bus.TopologyOptions{})
	ctx := context.Background()
	kv, err := b.JS.KeyValue(ctx, bus.BucketHolds)
	if err != nil {
		t.Fatal(err)
	}
	bk := typedkv.Bucket[plan]{KV: kv, What: "held plan"}

	if v, rev, err := bk.Get(ctx, "domain.corp"); v != nil || rev != 0 || err != nil {
		t.Fatalf("missing key: %v %d %v", v, rev, err)
	}
	rev, err := bk.Write(ctx, "domain.corp", plan{"r1", 1}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bk.Write(ctx, "domain.corp", plan{"r2", 2}, 0); !errors.Is(err, typedkv.ErrConflict) {
		t.Fatalf("create of an existing key: %v, want ErrConflict", err)
	}
	if _, err := bk.Write(ctx, "domain.corp", plan{"r2", 2}, rev+7); !errors.Is(err, typedkv.ErrConflict) {
		t.Fatalf("update at a wrong revision: %v, want ErrConflict", err)
	}
	rev2, err := bk.Write(ctx, "domain.corp", plan{"r2", 2}, rev)
	if err != nil {
		t.Fatal(err)
	}
	if err := bk.Delete(ctx, "domain.corp", rev); !errors.Is(err, typedkv.ErrConflict) {
		t.Fatalf("delete at an old revision: %v, want ErrConflict", err)
	}
	if v, r, err := bk.Get(ctx, "domain.corp"); err != nil || r != rev2 || !reflect.DeepEqual(v, &plan{"r2", 2}) {
		t.Fatalf("after update: %v %d %v", v, r, err)
	}
	if err := bk.Put(ctx, "domain.lab", plan{"r3", 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "domain.broken", []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	if v, r, err := bk.Get(ctx, "domain.broken"); v != nil || r == 0 || !errors.Is(err, typedkv.ErrUnreadable) {
		t.Fatalf("unreadable value: %v %d %v, want its revision and ErrUnreadable", v, r, err)
	}
	all, err := bk.All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]plan{"domain.corp": {"r2", 2}, "domain.lab": {"r3", 3}}; !reflect.DeepEqual(all, want) {
		t.Fatalf("All: %v, want %v (the unreadable one skipped)", all, want)
	}
	if err := bk.Delete(ctx, "domain.corp", rev2); err != nil {
		t.Fatal(err)
	}
	if err := bk.Delete(ctx, "domain.lab", 0); err != nil {
		t.Fatal(err)
	}
	if all, err := bk.All(ctx); err != nil || len(all) != 0 {
		t.Fatalf("after deletes: %v %v", all, err)
	}
}

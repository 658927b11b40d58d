package clustertest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/internal/presence"
)

// The bucket operations of each service, as its code does them.

func openKV(t *testing.T, ctx context.Context, b *bus.Bus, bucket string) jetstream.KeyValue {
	t.Helper()
	kv, err := b.KV(ctx, bucket)
	if err != nil {
		t.Fatalf("open %s: %v", bucket, err)
	}
	return kv
}

// get reads a key; a missing key is fine (it proves the read went through).
func get(t *testing.T, ctx context.Context, kv jetstream.KeyValue, key string) {
	t.Helper()
	if _, err := kv.Get(ctx, key); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Errorf("get %s %s: %v", kv.Bucket(), key, err)
	}
}

// watchAll watches a bucket until its current values are delivered.
func watchAll(t *testing.T, ctx context.Context, kv jetstream.KeyValue) {
	t.Helper()
	w, err := kv.WatchAll(ctx)
	if err != nil {
		t.Errorf("watch %s: %v", kv.Bucket(), err)
		return
	}
	defer w.Stop()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case e := <-w.Updates():
			if e == nil {
				return // initial values done
			}
		case <-timeout:
			t.Errorf("watch %s: no initial values", kv.Bucket())
			return
		}
	}
}

// tick watches the jobs and the slots it started, reads a job and records
// a slot.
func tickKV(t *testing.T, ctx context.Context, b *bus.Bus) {
	jobs, ticks := openKV(t, ctx, b, bus.BucketJobs), openKV(t, ctx, b, bus.BucketTicks)
	watchAll(t, ctx, jobs)
	watchAll(t, ctx, ticks)
	get(t, ctx, jobs, "job.perm")
	if _, err := ticks.Put(ctx, "perm", []byte(time.Now().UTC().Format(time.RFC3339))); err != nil {
		t.Errorf("record slot: %v", err)
	}
}

// guard reads SSO, the environment, the job, held plans and who is alive,
// and takes and releases a lease.
func guardKV(t *testing.T, ctx context.Context, b *bus.Bus) {
	settings := openKV(t, ctx, b, bus.BucketSettings)
	for _, k := range []string{"sso.saml", "sso.oidc", "environment"} {
		get(t, ctx, settings, k)
	}
	get(t, ctx, openKV(t, ctx, b, bus.BucketJobs), "job.perm")
	get(t, ctx, openKV(t, ctx, b, bus.BucketHolds), "domain.lab")
	if _, err := presence.List(ctx, openKV(t, ctx, b, bus.BucketServers), time.Now(), 30*time.Second); err != nil {
		t.Errorf("list servers: %v", err)
	}
	leases := openKV(t, ctx, b, bus.BucketLeases)
	get(t, ctx, leases, "job.perm")
	rev, err := leases.Create(ctx, "job.guard-perm", []byte(`{}`))
	if err != nil {
		t.Fatalf("take lease: %v", err)
	}
	if rev, err = leases.Update(ctx, "job.guard-perm", []byte(`{}`), rev); err != nil {
		t.Fatalf("take over lease: %v", err)
	}
	if err := leases.Delete(ctx, "job.guard-perm", jetstream.LastRevision(rev)); err != nil {
		t.Errorf("release lease: %v", err)
	}
}

// diff records, reads and removes a held plan.
func diffKV(t *testing.T, ctx context.Context, b *bus.Bus) {
	holds := openKV(t, ctx, b, bus.BucketHolds)
	if _, err := holds.Put(ctx, "domain.perm", []byte(`{}`)); err != nil {
		t.Fatalf("hold plan: %v", err)
	}
	get(t, ctx, holds, "domain.perm")
	if err := holds.Delete(ctx, "domain.perm"); err != nil {
		t.Errorf("drop held plan: %v", err)
	}
}

// directory-reader reads where a domain's delta read starts, and the
// settings and jobs of the admission checks.
func readerKV(t *testing.T, ctx context.Context, b *bus.Bus) {
	get(t, ctx, openKV(t, ctx, b, bus.BucketMarks), "domain.lab")
	// A requeued attempt passes the admission checks again.
	settings := openKV(t, ctx, b, bus.BucketSettings)
	for _, k := range []string{"sso.saml", "sso.oidc", "environment"} {
		get(t, ctx, settings, k)
	}
	get(t, ctx, openKV(t, ctx, b, bus.BucketJobs), "job.perm")
}

// account-writer saves where the next delta read starts and releases the
// lease of a finished run.
func writerKV(t *testing.T, ctx context.Context, b *bus.Bus) {
	if _, err := openKV(t, ctx, b, bus.BucketMarks).Put(ctx, "domain.perm", []byte(`{}`)); err != nil {
		t.Errorf("save watermark: %v", err)
	}
	// The account feed's relay: where the stream stands, then the next
	// change after it.
	pos, err := b.FeedPosition(ctx)
	if err != nil {
		t.Fatalf("read where the feed stands: %v", err)
	}
	payload := fmt.Sprintf(`{"seq":%d,"domain":"lab","change":"created","actor":"sync","at":"2026-12-07T00:00:00Z","account":{}}`, pos.Seq+1)
	if _, err := b.PublishFeed(ctx, pos, []bus.FeedMsg{{Seq: pos.Seq + 1, Domain: "lab", Payload: []byte(payload)}}); err != nil {
		t.Errorf("publish to the feed: %v", err)
	}
	if now, err := b.FeedPosition(ctx); err != nil || now.Seq != pos.Seq+1 {
		t.Errorf("the feed's last change after publishing: %d, %v", now.Seq, err)
	}
}

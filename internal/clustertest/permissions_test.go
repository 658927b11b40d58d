package clustertest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"

	"github.com/adsync/adsync/internal/app"
	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/internal/testenv/natscluster"
)

// serviceCase is what one service does on NATS at run time, and a sample
// of what it must not do.
type serviceCase struct {
	service string
	// publishes are the wire names of the events it publishes.
	publishes []string
	// kv does the service's own bucket operations.
	kv func(t *testing.T, ctx context.Context, b *bus.Bus)
	// serves are its request/reply endpoints; askedBy is who asks them.
	serves  []string
	askedBy string
	// refused are subjects of other services it must not publish to.
	refused []string
}

func serviceCases() []serviceCase {
	return []serviceCase{
		{service: app.Tick, publishes: []string{"sync.requested.v1"}, kv: tickKV,
			refused: []string{"adsync.sync.approved.v1", "$KV.adsync_leases.job.perm", "$JS.API.CONSUMER.MSG.NEXT.ADSYNC_CONTROL.guard-sync-requested"}},
		{service: app.Guard, publishes: []string{"sync.approved.v1", "sync.rejected.v1"}, kv: guardKV,
			refused: []string{"adsync.sync.requested.v1", "adsync.directory.requested.v1", "$KV.adsync_ticks.perm", "$JS.API.CONSUMER.MSG.NEXT.ADSYNC_CONTROL.reader-sync-approved"}},
		{service: app.DirectoryReader, publishes: []string{"directory.requested.v1", "directory.page.v1", "directory.completed.v1", "directory.failed.v1"}, kv: readerKV,
			serves: []string{"adsync.api.directory.lookup"}, askedBy: "adsync-diff",
			refused: []string{"adsync.account.changes.v1", "adsync.sync.approved.v1", "$KV.adsync_servers_evil.x", "$JS.API.CONSUMER.MSG.NEXT.ADSYNC_PAGES.diff-directory-page"}},
		{service: app.Diff, publishes: []string{"account.changes.v1", "changes.completed.v1"}, kv: diffKV,
			refused: []string{"adsync.sync.completed.v1", "adsync.directory.page.v1", "$KV.adsync_leases.job.perm", "$JS.API.CONSUMER.MSG.NEXT.ADSYNC_CHANGES.writer-account-changes"}},
		{service: app.AccountWriter, publishes: []string{"sync.completed.v1", "plan.applied.v1"}, kv: writerKV,
			serves: []string{"adsync.api.accounts.list", "adsync.api.accounts.deactivate", "adsync.api.accounts.reactivate", "adsync.api.runs.report"}, askedBy: "adsync-admin",
			refused: []string{"adsync.account.changes.v1", "adsync.sync.requested.v1", "$KV.adsync_holds.domain.lab", "$KV.adsync_leases.job.perm", "$JS.API.CONSUMER.MSG.NEXT.ADSYNC_PAGES.diff-directory-page"}},
	}
}

// refusedToEveryService: provisioning and administration.
var refusedToEveryService = []string{
	"$JS.API.STREAM.CREATE.ADSYNC_CONTROL", "$JS.API.STREAM.UPDATE.ADSYNC_CONTROL", "$JS.API.STREAM.DELETE.ADSYNC_PAGES",
	"$JS.API.STREAM.PURGE.ADSYNC_CHANGES", "$JS.API.CONSUMER.CREATE.ADSYNC_CONTROL.guard-sync-requested.adsync.sync.requested.v1",
	"$JS.API.CONSUMER.DELETE.ADSYNC_CONTROL.writer-changes-completed", "$JS.API.STREAM.MSG.DELETE.ADSYNC_CONTROL",
	"$KV.adsync_jobs.job.perm", "$KV.adsync_settings.sso.saml", "adsync.plan.decided.v1", "$SYS.REQ.SERVER.PING",
}

// Each service, connected with its own user of deploy/nats, can do what
// it does at run time on a 3-node cluster (with the admin having
// provisioned), and the server refuses the rest with a permissions
// violation. TestServicesRunWithLeastPrivilege runs the real services so.
func TestServicePermissions(t *testing.T) {
	needsCluster(t)
	t.Parallel()
	pw := newPasswords(t)
	cluster := permissionsCluster(t, pw)
	admin := connectBus(t, cluster, "adsync-admin", pw)
	if err := admin.Provision(opContext(t, time.Minute)); err != nil {
		t.Fatalf("the admin cannot provision: %v", err)
	}
	seed(t, opContext(t, time.Minute), admin)

	for _, tc := range serviceCases() {
		t.Run(tc.service, func(t *testing.T) {
			user := "adsync-" + tc.service
			b := connectBus(t, cluster, user, pw)
			t.Run("opens the buckets", func(t *testing.T) {
				if _, err := app.OpenStores(opContext(t, opTimeout), b); err != nil {
					t.Fatal(err)
				}
			})
			t.Run("heartbeats", func(t *testing.T) { heartbeat(t, opContext(t, opTimeout), b, tc.service) })
			t.Run("publishes its events", func(t *testing.T) {
				for _, name := range tc.publishes {
					if err := b.Publish(opContext(t, opTimeout), sampleEvent(t, name, "perm-"+tc.service)); err != nil {
						t.Errorf("publish %s: %v", name, err)
					}
				}
			})
			t.Run("pulls from its consumers", func(t *testing.T) {
				for _, c := range bus.Consumers() {
					if c.Service == tc.service {
						pullOne(t, opContext(t, opTimeout), b, c)
					}
				}
			})
			if tc.kv != nil {
				t.Run("uses its buckets", func(t *testing.T) { tc.kv(t, opContext(t, opTimeout), b) })
			}
			t.Run("answers requests", func(t *testing.T) { serve(t, cluster, pw, tc) })
			t.Run("dead-letters what JetStream gave up on", func(t *testing.T) { maxDeliveries(t, opContext(t, opTimeout), cluster, pw, b, user) })
			t.Run("is refused the rest", func(t *testing.T) { refused(t, cluster, pw, user, tc) })
			t.Run("cannot provision", func(t *testing.T) {
				if err := b.Provision(opContext(t, time.Second)); err == nil {
					t.Fatal("a service user provisioned the topology")
				}
			})
		})
	}
}

// opTimeout bounds each NATS operation of a service: a refused request is
// never answered, and must not eat the time of the next ones.
const opTimeout = 10 * time.Second

// opContext is a context that ends after d or with the test.
func opContext(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// seed gives every consumer a message and the buckets the keys the
// services read.
func seed(t *testing.T, ctx context.Context, admin *bus.Bus) {
	t.Helper()
	seen := map[string]bool{}
	for _, c := range bus.Consumers() {
		if !seen[c.Event] {
			seen[c.Event] = true
			if err := admin.Publish(ctx, sampleEvent(t, c.Event, "perm-seed")); err != nil {
				t.Fatalf("seed %s: %v", c.Event, err)
			}
		}
	}
	for bucket, key := range map[string]string{bus.BucketJobs: "job.perm", bus.BucketLeases: "job.perm", bus.BucketSettings: "environment"} {
		kv, err := admin.KV(ctx, bucket)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Put(ctx, key, []byte(`{}`)); err != nil {
			t.Fatalf("seed %s %s: %v", bucket, key, err)
		}
	}
}

// heartbeat writes and removes a presence record, as every process does.
func heartbeat(t *testing.T, ctx context.Context, b *bus.Bus, service string) {
	t.Helper()
	kv := openKV(t, ctx, b, bus.BucketServers)
	id := "perm-" + service
	if _, err := kv.Put(ctx, id, []byte(`{"id":"`+id+`"}`)); err != nil {
		t.Fatalf("heartbeat: %v", err)
	}
	if err := kv.Delete(ctx, id); err != nil {
		t.Fatalf("remove heartbeat: %v", err)
	}
}

// pullOne fetches a message from the consumer, dead-letters a copy of it
// and acknowledges it, the three things the bus adapter does.
func pullOne(t *testing.T, ctx context.Context, b *bus.Bus, c bus.ConsumerSpec) {
	t.Helper()
	cons, err := b.JS.Consumer(ctx, c.Stream, c.Durable)
	if err != nil {
		t.Errorf("open consumer %s: %v", c.Durable, err)
		return
	}
	// A leader change just after the cluster formed can end a fetch
	// early, empty: fetch again until the message comes.
	pollFor(t, "a message from "+c.Durable, time.Minute, func() error {
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return err
		}
		n := 0
		for m := range batch.Messages() {
			n++
			if err := (&bus.DeadLetters{JS: b.JS}).Put(ctx, m, c.Durable, bus.Delivery{Attempt: 1}, "permissions test"); err != nil {
				t.Errorf("dead-letter from %s: %v", c.Durable, err)
			}
			if err := m.DoubleAck(ctx); err != nil {
				t.Errorf("ack on %s: %v", c.Durable, err)
			}
		}
		if n != 1 {
			return fmt.Errorf("%d messages, %v", n, batch.Error())
		}
		return nil
	})
}

// serve registers the service with the NATS micro framework and its
// endpoints, and checks that the admin's ping and the askers' requests are
// answered.
func serve(t *testing.T, cluster *natscluster.Cluster, pw passwords, tc serviceCase) {
	t.Helper()
	user := "adsync-" + tc.service
	nc, err := nats.Connect(cluster.URLs(), nats.UserInfo(user, pw[user]))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	svc, err := micro.AddService(nc, micro.Config{Name: "adsync-" + tc.service, Version: "0.0.1"})
	if err != nil {
		t.Fatalf("register with the micro framework: %v", err)
	}
	defer svc.Stop()
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	for i, subject := range append([]string{"adsync.api.status." + tc.service}, tc.serves...) {
		err := svc.AddEndpoint("e"+string(rune('a'+i)), micro.HandlerFunc(func(r micro.Request) { _ = r.Respond([]byte("ok")) }),
			micro.WithEndpointSubject(subject))
		if err != nil {
			t.Fatalf("endpoint %s: %v", subject, err)
		}
	}
	ask := func(user, subject string) {
		t.Helper()
		c, err := nats.Connect(cluster.URLs(), nats.UserInfo(user, pw[user]))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// Interest reaches the other nodes of the cluster a moment after
		// the subscription: "no responders" until then.
		deadline := time.Now().Add(5 * time.Second)
		for {
			_, err := c.Request(subject, []byte("{}"), 5*time.Second)
			if err == nil {
				return
			}
			if !errors.Is(err, nats.ErrNoResponders) || time.Now().After(deadline) {
				t.Errorf("%s asks %s: %v", user, subject, err)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	ask("adsync-admin", "$SRV.PING.adsync-"+tc.service)
	ask("adsync-admin", "adsync.api.status."+tc.service)
	for _, subject := range tc.serves {
		ask(tc.askedBy, subject)
	}
}

// maxDeliveries does what bus.WatchMaxDeliveries does in every process:
// subscribe to the max-deliveries advisories of its own consumers, read
// the message from its stream and dead-letter it.
func maxDeliveries(t *testing.T, ctx context.Context, cluster *natscluster.Cluster, pw passwords, b *bus.Bus, user string) {
	t.Helper()
	nc, v := connectRaw(t, cluster, user, pw)
	for _, c := range bus.Consumers() {
		if "adsync-"+c.Service != user {
			continue
		}
		if _, err := nc.SubscribeSync("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES." + c.Stream + "." + c.Durable); err != nil {
			t.Fatal(err)
		}
	}
	v.none(t, nc)
	for _, stream := range []string{bus.StreamControl, bus.StreamPages, bus.StreamChanges} {
		st, err := b.JS.Stream(ctx, stream)
		if err != nil {
			t.Errorf("stream info %s: %v", stream, err)
			continue
		}
		if _, err := st.GetMsg(ctx, st.CachedInfo().State.LastSeq); err != nil && st.CachedInfo().State.Msgs > 0 {
			t.Errorf("get message of %s: %v", stream, err)
		}
	}
	if _, err := b.JS.Publish(ctx, bus.DeadLetterSubjectPrefix+bus.ConsumerWriterChanges, []byte("{}")); err != nil {
		t.Errorf("dead-letter another service's message: %v", err)
	}
}

// refused checks that the server refuses the service's user to publish to
// subjects that are not its own and to subscribe to what is not its own.
func refused(t *testing.T, cluster *natscluster.Cluster, pw passwords, user string, tc serviceCase) {
	t.Helper()
	nc, v := connectRaw(t, cluster, user, pw)
	v.none(t, nc)
	for _, subject := range append(append([]string{}, refusedToEveryService...), tc.refused...) {
		if err := nc.Publish(subject, []byte("{}")); err != nil {
			t.Fatal(err)
		}
		v.expect(t, "publish", subject)
	}
	refusedSubs := []string{"adsync.>", "$JS.API.>", "$KV.adsync_jobs.>"}
	if tc.service != app.AccountWriter {
		refusedSubs = append(refusedSubs, "adsync.api.accounts.list")
	}
	for _, subject := range refusedSubs {
		if _, err := nc.SubscribeSync(subject); err != nil {
			t.Fatal(err)
		}
		v.expect(t, "subscribe", subject)
	}
}

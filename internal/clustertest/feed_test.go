package clustertest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/app"
	"github.com/adsync/adsync/internal/infra/bus"
)

// A run's changes are committed, the account change feed cannot take them
// (its stream refuses new messages), and account-writer is killed (SIGKILL)
// with them in its outbox. Started again once the stream takes messages,
// it publishes each of them once, in order, after the changes the feed
// already had; replayed from the start, the feed is the account store.
func TestAccountFeedAfterWriterKilledBetweenCommitAndPublish(t *testing.T) {
	needsCluster(t)
	t.Parallel()
	c := newCrashSystem(t, false)
	ctx := context.Background()
	js, err := jetstream.New(c.nc)
	if err != nil {
		t.Fatal(err)
	}
	stream, err := js.Stream(ctx, bus.StreamAccounts)
	if err != nil {
		t.Fatal(err)
	}
	held := func() uint64 {
		info, err := stream.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return info.State.Msgs
	}
	mustCLI(t, c.config, "job", "create", "feed", "--all-domains", "--mode", "full")
	if sum := runJob(t, c.config, "feed"); sum.Totals.Created != crashUsers {
		t.Fatalf("first sync: %+v", sum.Totals)
	}
	pollFor(t, "the first sync's changes in the feed", time.Minute, func() error {
		if n := held(); n != crashUsers {
			return fmt.Errorf("the feed holds %d changes", n)
		}
		return nil
	})

	// The stream takes no more messages.
	cfg := stream.CachedInfo().Config
	full := cfg
	full.MaxMsgs, full.Discard = crashUsers, jetstream.DiscardNew
	if _, err := js.UpdateStream(ctx, full); err != nil {
		t.Fatal(err)
	}
	want := c.changeMails(t, "feed", every50(1))
	sum := runJob(t, c.config, "feed")
	if sum.Outcome != "completed" || sum.Totals.Updated != len(want) {
		t.Fatalf("run: %s %+v, want %d updates", sum.Outcome, sum.Totals, len(want))
	}
	writer := c.services[app.AccountWriter]
	pollFor(t, "account-writer to find the stream full", time.Minute, func() error {
		if !strings.Contains(writer.Log(), "account feed: publishing stopped") {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	writer.Kill(t)
	if n := held(); n != crashUsers {
		t.Fatalf("the full stream holds %d changes", n)
	}

	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	c.services[app.AccountWriter] = startService(t, c.dir, c.config, app.AccountWriter)
	total := crashUsers + len(want)
	pollFor(t, "the run's changes in the feed", time.Minute, func() error {
		if n := held(); n != uint64(total) {
			return fmt.Errorf("the feed holds %d changes, want %d", n, total)
		}
		return nil
	})

	feed := assertFeedIsStore(t, c)
	if len(feed) != total {
		t.Fatalf("the feed holds %d changes, want %d", len(feed), total)
	}
	updated := map[string]int{}
	for _, ev := range feed[crashUsers:] {
		if ev.Change != events.ChangeUpdated || !slices.Equal(ev.Fields, []string{"email"}) || ev.RunID != sum.RunID {
			t.Fatalf("change %d: %+v", ev.Seq, ev)
		}
		updated[ev.Account.ExternalID]++
	}
	for id := range want {
		if updated[id] != 1 {
			t.Errorf("account %s: %d changes in the feed, want 1", id, updated[id])
		}
	}
}

// assertFeedIsStore reads the whole account change feed, checks that it
// numbers its changes 1, 2, 3… (no gap, none twice) and that, replayed, it
// is the account store; it returns the changes.
func assertFeedIsStore(t *testing.T, c *crashSystem) []events.AccountChanged {
	t.Helper()
	ctx := context.Background()
	js, err := jetstream.New(c.nc)
	if err != nil {
		t.Fatal(err)
	}
	store := map[string]events.Account{}
	for _, a := range listAccounts(t, c.config) {
		store[a.ExternalID] = a
	}
	var feed []events.AccountChanged
	replayed := map[string]events.Account{}
	// The relay publishes a change once it is committed: wait until the
	// feed replays to the store, or report the difference.
	pollFor(t, "the account feed to replay to the account store", time.Minute, func() error {
		cons, err := js.OrderedConsumer(ctx, bus.StreamAccounts, jetstream.OrderedConsumerConfig{})
		if err != nil {
			return err
		}
		info, err := cons.Info(ctx)
		if err != nil {
			return err
		}
		n := int(info.NumPending)
		feed, replayed = nil, map[string]events.Account{}
		for len(feed) < n {
			batch, err := cons.Fetch(min(n-len(feed), 5000), jetstream.FetchMaxWait(10*time.Second))
			if err != nil {
				return err
			}
			got := 0
			for m := range batch.Messages() {
				var ev events.AccountChanged
				if err := json.Unmarshal(m.Data(), &ev); err != nil {
					t.Fatal(err)
				}
				if ev.Seq != int64(len(feed)+1) {
					t.Fatalf("change %d of the feed has seq %d: a gap or a repeat", len(feed)+1, ev.Seq)
				}
				feed = append(feed, ev)
				replayed[ev.Account.ExternalID] = ev.Account
				got++
			}
			if got == 0 {
				return fmt.Errorf("read %d of %d changes", len(feed), n)
			}
		}
		if !reflect.DeepEqual(replayed, store) {
			return fmt.Errorf("the feed (%d changes) replayed is not the account store (%d accounts)", len(feed), len(store))
		}
		return nil
	})
	return feed
}

// The platform's NATS user of deploy/nats (adsync-feed) reads a snapshot
// of the accounts and follows the account change feed from where it says,
// with consumers of its own on a 3-node cluster; the server refuses it
// everything else: runs, jobs, settings, held plans, other streams and
// buckets, provisioning, other subscriptions.
func TestFeedConsumerPermissions(t *testing.T) {
	needsCluster(t)
	t.Parallel()
	pw := newPasswords(t)
	cluster := permissionsCluster(t, pw)
	admin := connectBus(t, cluster, "adsync-admin", pw)
	ctx := opContext(t, time.Minute)
	if err := admin.Provision(ctx); err != nil {
		t.Fatalf("the admin cannot provision: %v", err)
	}
	var pos bus.FeedPosition
	for seq := int64(1); seq <= 3; seq++ {
		payload := fmt.Sprintf(`{"seq":%d,"domain":"lab","change":"created","actor":"sync","at":"2026-12-07T00:00:00Z","account":{}}`, seq)
		var err error
		if pos, err = admin.PublishFeed(ctx, pos, []bus.FeedMsg{{Seq: seq, Domain: "lab", Payload: []byte(payload)}}); err != nil {
			t.Fatal(err)
		}
	}

	feed := connectBus(t, cluster, "adsync-feed", pw)
	t.Run("follows the feed from a change", func(t *testing.T) {
		start, err := feed.FeedStart(opContext(t, opTimeout), 2)
		if err != nil {
			t.Fatal(err)
		}
		// A consumer made just after the cluster formed can be reset by a
		// leader change (the fetch then ends early with an error): read
		// again until the two changes arrive, and say why if they never do.
		pollFor(t, "changes 2 and 3 of the feed", time.Minute, func() error {
			cons, err := feed.JS.OrderedConsumer(opContext(t, opTimeout), bus.StreamAccounts, jetstream.OrderedConsumerConfig{
				FilterSubjects: []string{events.FeedSubject("*")}, DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: start})
			if err != nil {
				return err
			}
			batch, err := cons.Fetch(2, jetstream.FetchMaxWait(5*time.Second))
			if err != nil {
				return err
			}
			var seqs []int64
			for m := range batch.Messages() {
				var ev events.AccountChanged
				if err := json.Unmarshal(m.Data(), &ev); err != nil {
					t.Fatal(err)
				}
				seqs = append(seqs, ev.Seq)
			}
			if !slices.Equal(seqs, []int64{2, 3}) {
				return fmt.Errorf("changes %v, want 2 and 3 (fetch: %v)", seqs, batch.Error())
			}
			return nil
		})
	})
	t.Run("asks for a snapshot", func(t *testing.T) {
		nc, v := connectRaw(t, cluster, "adsync-feed", pw)
		// Allowed: nobody answers here, and the server says so (a refused
		// request would be a permissions violation instead).
		_, err := nc.Request("adsync.api.accounts.list", []byte(`{}`), 2*time.Second)
		if !errors.Is(err, nats.ErrNoResponders) {
			t.Fatalf("accounts list: %v, want no responders", err)
		}
		v.none(t, nc)
	})
	t.Run("is refused the rest", func(t *testing.T) {
		nc, v := connectRaw(t, cluster, "adsync-feed", pw)
		for _, subject := range append(append([]string{}, refusedToEveryService...),
			"adsync.sync.requested.v1", "adsync.account.changed.v1.lab", "adsync.api.accounts.deactivate", "adsync.api.runs.report",
			"$JS.API.CONSUMER.CREATE.ADSYNC_CONTROL.x", "$JS.API.STREAM.INFO.ADSYNC_CONTROL", "$JS.API.STREAM.PURGE.ADSYNC_ACCOUNTS",
			"$JS.API.STREAM.DELETE.ADSYNC_ACCOUNTS", "$JS.API.STREAM.MSG.DELETE.ADSYNC_ACCOUNTS", "$JS.API.DIRECT.GET.KV_adsync_jobs.>") {
			if err := nc.Publish(subject, []byte("{}")); err != nil {
				t.Fatal(err)
			}
			v.expect(t, "publish", subject)
		}
		for _, subject := range []string{"adsync.>", "adsync.sync.completed.v1", "$JS.API.>", "$KV.adsync_jobs.>", "adsync.api.accounts.list"} {
			if _, err := nc.SubscribeSync(subject); err != nil {
				t.Fatal(err)
			}
			v.expect(t, "subscribe", subject)
		}
	})
}

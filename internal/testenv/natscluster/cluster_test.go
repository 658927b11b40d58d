package natscluster

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/adsync/adsync/internal/testenv"
)

// A 3-node cluster comes up with a meta leader, and a replicas-3 stream
// keeps every acknowledged message and accepts new ones when the node that
// leads it is killed; the killed node comes back and catches up.
func TestNATSCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("builds nats-server and runs three of them")
	}
	t.Parallel()
	start := time.Now()
	c := Start(t)
	t.Logf("cluster start: %v", time.Since(start).Round(time.Millisecond))

	t.Run("three nodes on distinct ports", func(t *testing.T) {
		seen := map[int]string{}
		for i := range c.Size() {
			n := c.Node(i)
			if n.Name != fmt.Sprintf("n%d", i+1) || !n.Running() {
				t.Fatalf("node %d: name %s running %t", i, n.Name, n.Running())
			}
			for _, p := range []int{n.ClientPort, n.ClusterPort, n.HTTPPort} {
				if other, dup := seen[p]; dup {
					t.Fatalf("port %d used by %s and %s", p, other, n.Name)
				}
				if p >= ephemeralLow() {
					t.Fatalf("port %d is in the kernel's ephemeral range", p)
				}
				seen[p] = n.Name
			}
		}
		if got := strings.Count(c.URLs(), "nats://"); got != 3 {
			t.Fatalf("URLs() = %q", c.URLs())
		}
	})

	t.Run("an R3 stream survives the loss of its leader", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		nc := c.Connect(t, nats.RetryOnFailedConnect(true))
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "SURVIVE", Subjects: []string{"survive.>"}, Replicas: 3, Storage: jetstream.FileStorage}); err != nil {
			t.Fatal(err)
		}
		publish := func(from, to int) {
			t.Helper()
			for i := from; i < to; i++ {
				// Retried while an election is in progress: a publish
				// the old leader stored and acknowledged is never lost.
				if _, err := js.Publish(ctx, fmt.Sprintf("survive.%d", i), []byte("m"), jetstream.WithMsgID(fmt.Sprint(i)),
					jetstream.WithRetryAttempts(100), jetstream.WithRetryWait(100*time.Millisecond)); err != nil {
					t.Fatalf("publish %d: %v", i, err)
				}
			}
		}
		publish(0, 100)

		leader := c.StreamLeader(ctx, "SURVIVE")
		if leader < 0 {
			t.Fatal("stream has no leader")
		}
		killed := time.Now()
		c.Node(leader).Kill()
		next := c.StreamLeader(ctx, "SURVIVE")
		if next < 0 || next == leader {
			t.Fatalf("leader after killing n%d: %d", leader+1, next)
		}
		publish(100, 200)
		t.Logf("leader %s killed; %s leads; stream took writes again after %v", c.Node(leader).Name, c.Node(next).Name, time.Since(killed).Round(time.Millisecond))
		assertMessages(ctx, t, js, "SURVIVE", 200)

		restarted := time.Now()
		c.Node(leader).Start()
		t.Logf("%s restarted and healthy in %v", c.Node(leader).Name, time.Since(restarted).Round(time.Millisecond))
		// The leader soon sees the restarted replica current again.
		caughtUp, cancelWait := context.WithTimeout(ctx, 30*time.Second)
		defer cancelWait()
		err = testenv.PollUntil(caughtUp, 100*time.Millisecond, func() error {
			reqCtx, cancel := context.WithTimeout(caughtUp, 2*time.Second)
			defer cancel()
			s, err := js.Stream(reqCtx, "SURVIVE")
			if err != nil {
				return err
			}
			for _, r := range s.CachedInfo().Cluster.Replicas {
				if !r.Current || r.Offline {
					return fmt.Errorf("replica %s: current %t offline %t", r.Name, r.Current, r.Offline)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s current again %v after its start", c.Node(leader).Name, time.Since(restarted).Round(time.Millisecond))
		assertMessages(ctx, t, js, "SURVIVE", 200)
	})

	t.Run("the meta leader and a consumer's leader are running nodes; moves hand leadership to the node asked for", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if meta := c.MetaLeader(ctx); meta < 0 || !c.Node(meta).Running() {
			t.Fatalf("MetaLeader = %d", meta)
		}
		js, err := jetstream.New(c.Connect(t, nats.RetryOnFailedConnect(true)))
		if err != nil {
			t.Fatal(err)
		}
		retry(ctx, t, "create consumer", func(ctx context.Context) error {
			_, err := js.CreateOrUpdateConsumer(ctx, "SURVIVE", jetstream.ConsumerConfig{Durable: "leaders", AckPolicy: jetstream.AckExplicitPolicy})
			return err
		})
		l := c.ConsumerLeader(ctx, "SURVIVE", "leaders")
		if l < 0 || !c.Node(l).Running() {
			t.Fatalf("ConsumerLeader = %d", l)
		}
		// A move hands the leadership to the node asked for.
		to := (l + 1) % c.Size()
		if err := c.MoveConsumerLeader(ctx, "SURVIVE", "leaders", to); err != nil {
			t.Fatal(err)
		}
		if got := c.ConsumerLeader(ctx, "SURVIVE", "leaders"); got != to {
			t.Fatalf("consumer leader %d after the move, want %d", got, to)
		}
		to = (c.StreamLeader(ctx, "SURVIVE") + 1) % c.Size()
		if err := c.MoveStreamLeader(ctx, "SURVIVE", to); err != nil {
			t.Fatal(err)
		}
		if got := c.StreamLeader(ctx, "SURVIVE"); got != to {
			t.Fatalf("stream leader %d after the move, want %d", got, to)
		}
		short, cancelShort := context.WithTimeout(ctx, 500*time.Millisecond)
		defer cancelShort()
		if got := c.ConsumerLeader(short, "SURVIVE", "missing"); got != -1 {
			t.Fatalf("ConsumerLeader of a missing consumer = %d, want -1", got)
		}
	})

	t.Run("StreamLeader of a missing stream gives up with ctx", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		if got := c.StreamLeader(ctx, "MISSING"); got != -1 {
			t.Fatalf("StreamLeader = %d, want -1", got)
		}
	})
}

// assertMessages checks that stream holds exactly want messages, survive.0
// to survive.<want-1> at sequences 1 to want. Each read is retried while
// the cluster settles (a client reconnecting, a leader being elected).
func assertMessages(ctx context.Context, t *testing.T, js jetstream.JetStream, stream string, want int) {
	t.Helper()
	var s jetstream.Stream
	retry(ctx, t, "stream info", func(ctx context.Context) (err error) {
		s, err = js.Stream(ctx, stream)
		return err
	})
	if n := s.CachedInfo().State.Msgs; n != uint64(want) {
		t.Fatalf("stream has %d messages, want %d", n, want)
	}
	for i := range want {
		var m *jetstream.RawStreamMsg
		retry(ctx, t, fmt.Sprintf("message %d", i+1), func(ctx context.Context) (err error) {
			m, err = s.GetMsg(ctx, uint64(i+1))
			return err
		})
		if got := m.Subject; got != fmt.Sprintf("survive.%d", i) {
			t.Fatalf("message %d is %s", i+1, got)
		}
	}
}

// retry calls fn with a 2-second context until it succeeds or ctx ends.
func retry(ctx context.Context, t *testing.T, what string, fn func(context.Context) error) {
	t.Helper()
	err := testenv.PollUntil(ctx, 100*time.Millisecond, func() error {
		reqCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		return fn(reqCtx)
	})
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

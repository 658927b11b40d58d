package natscluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/adsync/adsync/internal/testenv"
)

// Cluster is a real 3-node NATS JetStream cluster of nats-server processes
// on 127.0.0.1, for tests: streams with replicas 3 live on all three nodes,
// and a test can kill (SIGKILL) and restart any node.
type Cluster struct {
	// Dir holds each node's configuration, store and log.
	Dir   string
	t     testing.TB
	bin   string
	opts  clusterOptions
	nodes []*Node
}

// Option configures Start.
type Option func(*clusterOptions)

type clusterOptions struct {
	name         string
	syncInterval string
	extra        string
	user, pass   string
	env          []string
	startTimeout time.Duration
}

// WithSyncInterval sets jetstream.sync_interval of every node ("always", or
// a duration such as "2m"; default "30s").
func WithSyncInterval(v string) Option {
	return func(o *clusterOptions) { o.syncInterval = v }
}

// WithConfig appends text (e.g. an accounts block) to every node's
// configuration file.
func WithConfig(text string) Option {
	return func(o *clusterOptions) { o.extra += text }
}

// WithEnv adds KEY=value variables to the nodes' environment (the
// configuration can read them as $KEY, e.g. passwords).
func WithEnv(vars ...string) Option {
	return func(o *clusterOptions) { o.env = append(o.env, vars...) }
}

// WithAuth gives the credentials that the Cluster's own connections
// (Connect, StreamLeader) use, for configurations that require them.
func WithAuth(user, password string) Option {
	return func(o *clusterOptions) { o.user, o.pass = user, password }
}

// Start builds nats-server from the module version in go.mod (once
// per machine), starts three nodes n1, n2, n3 with JetStream, each with its
// own store and ports, waits until they agree on a JetStream meta leader and
// are healthy, and kills them when the test ends.
func Start(t testing.TB, opts ...Option) *Cluster {
	t.Helper()
	start := time.Now()
	bin, err := ServerBinary()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	o := clusterOptions{name: "adsync-test", syncInterval: "30s", startTimeout: 60 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	c := &Cluster{Dir: t.TempDir(), t: t, bin: bin, opts: o}
	t.Cleanup(c.shutdown)
	for attempt := 1; ; attempt++ {
		err := c.launch()
		if err == nil {
			break
		}
		c.killAll()
		if !errors.Is(err, testenv.ErrPortInUse) || attempt == 3 {
			t.Fatalf("testenv: NATS cluster: %v", err)
		}
	}
	t.Logf("testenv: NATS cluster ready at %s (%v)", c.URLs(), time.Since(start).Round(time.Millisecond))
	return c
}

// launch writes the node configurations on fresh ports, starts the nodes
// and waits for the cluster to be ready.
func (c *Cluster) launch() error {
	const size = 3
	ports, err := freeClusterPorts(3 * size)
	if err != nil {
		return err
	}
	c.nodes = nil
	for i := range size {
		name := fmt.Sprintf("n%d", i+1)
		dir := filepath.Join(c.Dir, name)
		_ = os.RemoveAll(dir) // what a launch that lost a port race left
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("node dir: %w", err)
		}
		c.nodes = append(c.nodes, &Node{
			Name: name, Index: i, cluster: c,
			ClientPort: ports[3*i], ClusterPort: ports[3*i+1], HTTPPort: ports[3*i+2],
			ConfFile: filepath.Join(dir, "nats.conf"), StoreDir: filepath.Join(dir, "jetstream"),
			LogFile: filepath.Join(dir, "nats.log"),
		})
	}
	for _, n := range c.nodes {
		if err := testenv.WriteFile(n.ConfFile, natsNodeConfig(c, n), 0o600); err != nil {
			return err
		}
	}
	for _, n := range c.nodes {
		if err := n.spawn(); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.startTimeout)
	defer cancel()
	if err := c.waitMetaLeader(ctx); err != nil {
		return c.nodeError(err)
	}
	for _, n := range c.nodes {
		if err := n.waitHealthy(ctx); err != nil {
			return c.nodeError(err)
		}
	}
	return nil
}

// nodeError adds each node's log testenv.Tail to err, and marks a lost port race.
func (c *Cluster) nodeError(err error) error {
	var b strings.Builder
	for _, n := range c.nodes {
		raw, _ := os.ReadFile(n.LogFile)
		if strings.Contains(string(raw), "address already in use") {
			err = fmt.Errorf("%w: %w", testenv.ErrPortInUse, err)
		}
		fmt.Fprintf(&b, "\n--- %s (testenv.Tail) ---\n%s", n.LogFile, testenv.Tail(string(raw), 10))
	}
	return fmt.Errorf("%w%s", err, b.String())
}

// URLs is the comma-separated client URLs of all nodes, as adsync's
// nats.url takes them.
func (c *Cluster) URLs() string {
	urls := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		urls[i] = n.ClientURL()
	}
	return strings.Join(urls, ",")
}

// Node returns node i (0-based: Node(0) is n1).
func (c *Cluster) Node(i int) *Node {
	if i < 0 || i >= len(c.nodes) {
		c.t.Fatalf("testenv: the cluster has no node %d (0-%d)", i, len(c.nodes)-1)
	}
	return c.nodes[i]
}

// Size is the number of nodes.
func (c *Cluster) Size() int { return len(c.nodes) }

// Connect opens a client connection to the cluster (any live node, with the
// cluster's credentials), closed when the test ends.
func (c *Cluster) Connect(t testing.TB, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := c.connect(opts...)
	if err != nil {
		t.Fatalf("testenv: connect to the NATS cluster: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func (c *Cluster) connect(opts ...nats.Option) (*nats.Conn, error) {
	base := []nats.Option{nats.Name("testenv cluster"), nats.MaxReconnects(-1), nats.ReconnectWait(100 * time.Millisecond), nats.Timeout(2 * time.Second)}
	if c.opts.user != "" {
		base = append(base, nats.UserInfo(c.opts.user, c.opts.pass))
	}
	return nats.Connect(c.URLs(), append(base, opts...)...)
}

// shutdown kills every node; on failure it logs the testenv.Tail of their logs.
func (c *Cluster) shutdown() {
	c.killAll()
	if c.t.Failed() {
		for _, n := range c.nodes {
			raw, _ := os.ReadFile(n.LogFile)
			c.t.Logf("testenv: last lines of %s:\n%s", n.LogFile, testenv.Tail(string(raw), 30))
		}
	}
}

func (c *Cluster) killAll() {
	for _, n := range c.nodes {
		_ = n.kill()
	}
}

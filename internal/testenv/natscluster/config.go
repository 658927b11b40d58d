package natscluster

import (
	"fmt"
	"strings"
)

// natsNodeConfig is the configuration file of one node of a test cluster.
func natsNodeConfig(c *Cluster, n *Node) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s of a %d-node JetStream test cluster (natscluster.Start)\n", n.Name, len(c.nodes))
	fmt.Fprintf(&b, "server_name: %s\n", n.Name)
	fmt.Fprintf(&b, "listen: 127.0.0.1:%d\n", n.ClientPort)
	fmt.Fprintf(&b, "http: 127.0.0.1:%d\n", n.HTTPPort)
	// adsync's bulk streams allow 8 MiB messages, like its embedded server.
	b.WriteString("max_payload: 8MB\n")
	b.WriteString("jetstream {\n")
	fmt.Fprintf(&b, "  store_dir: %q\n", n.StoreDir)
	b.WriteString("  max_memory_store: 256MB\n  max_file_store: 4GB\n")
	// A test kills node processes, never the machine: what a killed node
	// had not fsynced is still in the kernel's page cache, so the interval
	// only trades disk load for nothing here. See deploy/nats/cluster for
	// production.
	fmt.Fprintf(&b, "  sync_interval: %s\n", c.opts.syncInterval)
	b.WriteString("}\n")
	b.WriteString("cluster {\n")
	fmt.Fprintf(&b, "  name: %s\n", c.opts.name)
	fmt.Fprintf(&b, "  listen: 127.0.0.1:%d\n", n.ClusterPort)
	b.WriteString("  routes: [\n")
	for _, peer := range c.nodes {
		if peer != n {
			fmt.Fprintf(&b, "    nats-route://127.0.0.1:%d\n", peer.ClusterPort)
		}
	}
	b.WriteString("  ]\n}\n")
	if c.opts.extra != "" {
		b.WriteString(c.opts.extra)
		if !strings.HasSuffix(c.opts.extra, "\n") {
			b.WriteString("\n")
		}
	}
	return b.String()
}

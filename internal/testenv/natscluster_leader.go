package testenv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// waitMetaLeader polls every node's /jsz until all of them name the same
// JetStream meta leader in a cluster of all the nodes.
func (c *Cluster) waitMetaLeader(ctx context.Context) error {
	client := &http.Client{Timeout: 2 * time.Second}
	return pollUntil(ctx, 100*time.Millisecond, func() error {
		leader := ""
		for _, n := range c.nodes {
			meta, err := n.metaCluster(client)
			if err != nil {
				return err
			}
			switch {
			case meta.Leader == "":
				return fmt.Errorf("%s knows no meta leader yet", n.Name)
			case meta.Size != len(c.nodes):
				return fmt.Errorf("%s sees a meta group of %d", n.Name, meta.Size)
			case leader != "" && meta.Leader != leader:
				return fmt.Errorf("nodes disagree on the meta leader: %s and %s", leader, meta.Leader)
			}
			leader = meta.Leader
		}
		return nil
	})
}

type metaCluster struct {
	Leader string `json:"leader"`
	Size   int    `json:"cluster_size"`
}

// metaCluster reads the node's view of the JetStream meta group.
func (n *ClusterNode) metaCluster(client *http.Client) (metaCluster, error) {
	resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/jsz", n.HTTPPort))
	if err != nil {
		return metaCluster{}, fmt.Errorf("%s: %w", n.Name, err)
	}
	defer resp.Body.Close()
	var jsz struct {
		Meta *metaCluster `json:"meta_cluster"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&jsz); err != nil {
		return metaCluster{}, fmt.Errorf("%s: /jsz: %w", n.Name, err)
	}
	if jsz.Meta == nil {
		return metaCluster{}, fmt.Errorf("%s: /jsz has no meta_cluster", n.Name)
	}
	return *jsz.Meta, nil
}

// StreamLeader returns the index of the node that leads stream (see Node),
// asking the JetStream API. It waits while the stream has no leader (an
// election in progress) or names a node that is not running, and returns -1
// when ctx ends first.
func (c *Cluster) StreamLeader(ctx context.Context, stream string) int {
	i, err := c.streamLeader(ctx, stream)
	if err != nil {
		c.t.Logf("testenv: leader of stream %s: %v", stream, err)
		return -1
	}
	return i
}

func (c *Cluster) streamLeader(ctx context.Context, stream string) (int, error) {
	nc, err := c.connect()
	if err != nil {
		return -1, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc, jetstream.WithDefaultTimeout(2*time.Second))
	if err != nil {
		return -1, err
	}
	var leader int
	err = pollUntil(ctx, 100*time.Millisecond, func() error {
		// One request per try: an info request sent during an election
		// may never be answered.
		reqCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		s, err := js.Stream(reqCtx, stream)
		if err != nil {
			if errors.Is(err, jetstream.ErrStreamNotFound) {
				return err
			}
			return fmt.Errorf("stream info: %w", err)
		}
		info := s.CachedInfo()
		if info.Cluster == nil || info.Cluster.Leader == "" {
			return errors.New("no leader (election in progress)")
		}
		for _, n := range c.nodes {
			if n.Name == info.Cluster.Leader {
				if !n.Running() {
					return fmt.Errorf("stale answer: leader %s is not running", n.Name)
				}
				leader = n.Index
				return nil
			}
		}
		return fmt.Errorf("leader %q is not a node of this cluster", info.Cluster.Leader)
	})
	if err != nil {
		return -1, err
	}
	return leader, nil
}

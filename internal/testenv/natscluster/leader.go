package natscluster

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/internal/testenv"
)

// waitMetaLeader polls every node's /jsz until all of them name the same
// JetStream meta leader in a cluster of all the nodes.
func (c *Cluster) waitMetaLeader(ctx context.Context) error {
	client := &http.Client{Timeout: 2 * time.Second}
	return testenv.PollUntil(ctx, 100*time.Millisecond, func() error {
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
func (n *Node) metaCluster(client *http.Client) (metaCluster, error) {
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
	return c.leader(ctx, "stream "+stream, streamInfo(stream))
}

// ConsumerLeader returns the index of the node that leads a durable
// consumer of stream, as StreamLeader does for a stream.
func (c *Cluster) ConsumerLeader(ctx context.Context, stream, consumer string) int {
	return c.leader(ctx, "consumer "+stream+"/"+consumer, consumerInfo(stream, consumer))
}

// clusterInfo asks the JetStream API for the cluster information of a
// stream or consumer.
type clusterInfo func(context.Context, jetstream.JetStream) (*jetstream.ClusterInfo, error)

func streamInfo(stream string) clusterInfo {
	return func(ctx context.Context, js jetstream.JetStream) (*jetstream.ClusterInfo, error) {
		s, err := js.Stream(ctx, stream)
		if err != nil {
			return nil, err
		}
		return s.CachedInfo().Cluster, nil
	}
}

func consumerInfo(stream, consumer string) clusterInfo {
	return func(ctx context.Context, js jetstream.JetStream) (*jetstream.ClusterInfo, error) {
		cons, err := js.Consumer(ctx, stream, consumer)
		if err != nil {
			return nil, err
		}
		return cons.CachedInfo().Cluster, nil
	}
}

// MetaLeader returns the index of the node that is the JetStream meta
// leader (the node that answers the JetStream API's stream and consumer
// management), as the running nodes' /jsz tell it: it waits while a running
// node knows no leader or names a node that is not running, and returns -1
// when ctx ends first.
func (c *Cluster) MetaLeader(ctx context.Context) int {
	client := &http.Client{Timeout: 2 * time.Second}
	leader := -1
	err := testenv.PollUntil(ctx, 100*time.Millisecond, func() error {
		name := ""
		for _, n := range c.nodes {
			if !n.Running() {
				continue
			}
			meta, err := n.metaCluster(client)
			if err != nil {
				return err
			}
			switch {
			case meta.Leader == "":
				return fmt.Errorf("%s knows no meta leader (election in progress)", n.Name)
			case name != "" && meta.Leader != name:
				return fmt.Errorf("nodes disagree on the meta leader: %s and %s", name, meta.Leader)
			}
			name = meta.Leader
		}
		i, err := c.runningNode(name)
		leader = i
		return err
	})
	if err != nil {
		c.t.Logf("testenv: JetStream meta leader: %v", err)
		return -1
	}
	return leader
}

// leader asks the JetStream API for the cluster information of a stream
// or consumer (one request per try: an info request sent during an
// election may never be answered) until it names a running node, and
// returns that node's index, or -1 when ctx ends first.
func (c *Cluster) leader(ctx context.Context, what string, info clusterInfo) int {
	i, err := c.apiLeader(ctx, info)
	if err != nil {
		c.t.Logf("testenv: leader of %s: %v", what, err)
		return -1
	}
	return i
}

func (c *Cluster) apiLeader(ctx context.Context, info clusterInfo) (int, error) {
	nc, err := c.connect()
	if err != nil {
		return -1, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc, jetstream.WithDefaultTimeout(2*time.Second))
	if err != nil {
		return -1, err
	}
	leader := -1
	err = testenv.PollUntil(ctx, 100*time.Millisecond, func() error {
		reqCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		ci, err := info(reqCtx, js)
		if err != nil {
			if errors.Is(err, jetstream.ErrStreamNotFound) || errors.Is(err, jetstream.ErrConsumerNotFound) {
				return err
			}
			return fmt.Errorf("info: %w", err)
		}
		if ci == nil || ci.Leader == "" {
			return errors.New("no leader (election in progress)")
		}
		i, err := c.runningNode(ci.Leader)
		leader = i
		return err
	})
	if err != nil {
		return -1, err
	}
	return leader, nil
}

// runningNode returns the index of the running node with that name.
func (c *Cluster) runningNode(name string) (int, error) {
	for _, n := range c.nodes {
		if n.Name == name {
			if !n.Running() {
				return -1, fmt.Errorf("stale answer: leader %s is not running", n.Name)
			}
			return n.Index, nil
		}
	}
	return -1, fmt.Errorf("leader %q is not a node of this cluster", name)
}

// MoveStreamLeader hands the leadership of stream to node to and waits
// until that node holds it, or ctx ends. JetStream does not promise that a
// step-down ends at the node it prefers: it passes over a replica that is
// not current yet, and the election that follows may go elsewhere. So a
// step-down that is refused or ends at another node is asked again.
func (c *Cluster) MoveStreamLeader(ctx context.Context, stream string, to int) error {
	return c.moveLeader(ctx, "stream "+stream, "$JS.API.STREAM.LEADER.STEPDOWN."+stream, to, streamInfo(stream))
}

// MoveConsumerLeader hands the leadership of a durable consumer of stream
// to node to, as MoveStreamLeader does for a stream.
func (c *Cluster) MoveConsumerLeader(ctx context.Context, stream, consumer string, to int) error {
	return c.moveLeader(ctx, "consumer "+stream+"/"+consumer, "$JS.API.CONSUMER.LEADER.STEPDOWN."+stream+"."+consumer, to,
		consumerInfo(stream, consumer))
}

// moveLeader asks the leader of what to step down in favour of node to,
// then watches for up to 5s whether to takes over, and starts again until
// it has or ctx ends.
func (c *Cluster) moveLeader(ctx context.Context, what, subject string, to int, info clusterInfo) error {
	leaderOf := func(ctx context.Context) (int, error) { return c.apiLeader(ctx, info) }
	name := c.Node(to).Name
	tries := 0
	err := testenv.PollUntil(ctx, 100*time.Millisecond, func() error {
		try, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if l, err := leaderOf(try); err != nil {
			return err
		} else if l == to {
			return nil
		}
		tries++
		if err := c.stepDown(try, subject, name); err != nil {
			return err
		}
		var last error
		testenv.PollUntil(try, 100*time.Millisecond, func() error {
			l, err := leaderOf(try)
			switch {
			case err != nil:
				last = err
			case l != to:
				last = fmt.Errorf("step-down %d ended at %s", tries, c.Node(l).Name)
			default:
				last = nil
			}
			return last
		})
		return last
	})
	if err != nil {
		return fmt.Errorf("move the leader of %s to %s: %w", what, name, err)
	}
	if tries > 1 {
		c.t.Logf("testenv: %s leads %s after %d step-downs", name, what, tries)
	}
	return nil
}

func (c *Cluster) stepDown(ctx context.Context, subject, preferred string) error {
	nc, err := c.connect()
	if err != nil {
		return err
	}
	defer nc.Close()
	var req []byte
	if preferred != "" {
		req, _ = json.Marshal(map[string]any{"placement": map[string]string{"preferred": preferred}})
	}
	msg, err := nc.RequestWithContext(ctx, subject, req)
	if err != nil {
		return fmt.Errorf("%s: %w", subject, err)
	}
	var resp struct {
		Success bool `json:"success"`
		Error   *struct {
			Description string `json:"description"`
		} `json:"error"`
	}
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		return fmt.Errorf("%s: %w: %s", subject, err, msg.Data)
	}
	if resp.Error != nil || !resp.Success {
		return fmt.Errorf("%s: refused: %s", subject, msg.Data)
	}
	return nil
}

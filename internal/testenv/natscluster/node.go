package natscluster

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/adsync/adsync/internal/testenv"
)

// Node is one nats-server process of a Cluster.
type Node struct {
	Name  string // server_name: n1, n2, n3
	Index int    // 0-based: Cluster.Node(Index)
	// Ports on 127.0.0.1; a restarted node keeps them.
	ClientPort, ClusterPort, HTTPPort int
	ConfFile, StoreDir, LogFile       string

	cluster *Cluster
	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{} // closed when cmd has exited
}

// ClientURL is the node's client URL.
func (n *Node) ClientURL() string {
	return "nats://127.0.0.1:" + strconv.Itoa(n.ClientPort)
}

// Running reports whether the node's process is alive.
func (n *Node) Running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cmd != nil && !testenv.IsClosed(n.done)
}

// PID is the node's process id (0 when stopped).
func (n *Node) PID() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil || testenv.IsClosed(n.done) {
		return 0
	}
	return n.cmd.Process.Pid
}

// Kill kills the node with SIGKILL (no shutdown, no flush) and waits until
// the process is gone. Its store and ports stay for Start.
func (n *Node) Kill() {
	n.cluster.t.Helper()
	if err := n.kill(); err != nil {
		n.cluster.t.Fatalf("testenv: kill NATS node %s: %v", n.Name, err)
	}
}

// Start starts a killed node again with the same configuration, store and
// ports, and waits until it is healthy: it has rejoined the cluster and its
// streams and consumers have caught up.
func (n *Node) Start() {
	n.cluster.t.Helper()
	if err := n.spawn(); err != nil {
		n.cluster.t.Fatalf("testenv: start NATS node %s: %v", n.Name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), n.cluster.opts.startTimeout)
	defer cancel()
	if err := n.waitHealthy(ctx); err != nil {
		n.cluster.t.Fatalf("testenv: NATS node %s: %v", n.Name, n.cluster.nodeError(err))
	}
}

// spawn starts the process (a no-op while it runs).
func (n *Node) spawn() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd != nil && !testenv.IsClosed(n.done) {
		return nil
	}
	logFile, err := os.OpenFile(n.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open %s: %w", n.LogFile, err)
	}
	defer logFile.Close()
	cmd := exec.Command(n.cluster.bin, "-c", n.ConfFile)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = append(os.Environ(), n.cluster.opts.env...)
	// The kernel kills the node if the test binary dies without cleanups.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", n.cluster.bin, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	n.cmd, n.done = cmd, done
	return nil
}

func (n *Node) kill() error {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.mu.Unlock()
	if cmd == nil || testenv.IsClosed(done) {
		return nil
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("pid %d did not exit after SIGKILL", cmd.Process.Pid)
	}
}

// waitHealthy polls the node's /healthz until it reports JetStream healthy
// (meta leader known, streams and consumers current) or ctx ends; a node
// whose process exits fails at once.
func (n *Node) waitHealthy(ctx context.Context) error {
	url := fmt.Sprintf("http://127.0.0.1:%d/healthz", n.HTTPPort)
	client := &http.Client{Timeout: 2 * time.Second}
	n.mu.Lock()
	done := n.done
	n.mu.Unlock()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("healthz %s", resp.Status)
		}
		select {
		case <-done:
			return fmt.Errorf("%s exited during start-up", n.Name)
		case <-ctx.Done():
			return fmt.Errorf("%s not healthy: %w (last error: %w)", n.Name, ctx.Err(), err)
		case <-tick.C:
		}
	}
}

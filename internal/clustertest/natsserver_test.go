package clustertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/internal/testenv/natscluster"
)

// natsServer is one nats-server process with JetStream (the binary
// natscluster.Start runs, built from go.mod's version), for the tests
// that kill adsync processes rather than NATS nodes: a run's messages go
// through the same JetStream code as on a cluster, with replicas 1.
type natsServer struct {
	URL     string
	LogFile string
	cmd     *exec.Cmd
	done    chan struct{}
}

// startNATSServer starts the server on a port of its choosing (read back
// from its ports file), waits until JetStream answers, and kills it when
// the test ends.
func startNATSServer(t *testing.T) *natsServer {
	t.Helper()
	bin, err := natscluster.ServerBinary()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "nats.conf")
	text := fmt.Sprintf("server_name: adsync-crash\nlisten: 127.0.0.1:-1\nmax_payload: 8MB\nports_file_dir: %q\n"+
		"jetstream {\n  store_dir: %q\n  max_memory_store: 256MB\n  max_file_store: 4GB\n}\n", dir, filepath.Join(dir, "jetstream"))
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &natsServer{LogFile: filepath.Join(dir, "nats.log"), done: make(chan struct{})}
	logFile, err := os.Create(s.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	s.cmd = exec.Command(bin, "-c", conf)
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start nats-server: %v", err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		<-s.done
		keepLogs(t, s.LogFile)
	})
	pollFor(t, "nats-server's ports file", 30*time.Second, func() error {
		select {
		case <-s.done:
			raw, _ := os.ReadFile(s.LogFile)
			t.Fatalf("nats-server exited at start:\n%s", tailLines(string(raw), 20))
		default:
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*.ports"))
		if len(files) == 0 {
			return fmt.Errorf("no ports file in %s yet", dir)
		}
		raw, err := os.ReadFile(files[0])
		if err != nil {
			return err
		}
		var ports struct {
			Nats []string `json:"nats"`
		}
		if err := json.Unmarshal(raw, &ports); err != nil || len(ports.Nats) == 0 {
			return fmt.Errorf("ports file %s: %q", files[0], raw)
		}
		s.URL = ports.Nats[0]
		return nil
	})
	nc := s.connect(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	pollFor(t, "JetStream", 30*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err := js.AccountInfo(ctx)
		return err
	})
	return s
}

// connect opens a client connection, closed when the test ends.
func (s *natsServer) connect(t *testing.T) *nats.Conn {
	t.Helper()
	return connectNATS(t, s.URL)
}

// connectNATS connects to url and reconnects for ever (a test's
// connection outlives a restart of the embedded server).
func connectNATS(t *testing.T, url string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, append([]nats.Option{nats.Name("clustertest " + t.Name()), nats.MaxReconnects(-1),
		nats.ReconnectWait(100 * time.Millisecond), nats.Timeout(5 * time.Second), nats.RetryOnFailedConnect(false)}, opts...)...)
	if err != nil {
		t.Fatalf("connect to NATS at %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

package clustertest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Service is one `adsync serve SERVICE` process.
type Service struct {
	Name    string
	LogFile string
	cmd     *exec.Cmd
	done    chan struct{}
	err     error // the process's exit, once done is closed
}

// startService starts `adsync serve name -c config` with its own log file
// in dir and waits until it logs that it is running. It is stopped with
// SIGTERM when the test ends, and must exit 0 then.
//
// A process that exits at start is started again, at most twice, as its
// supervisor would (systemd Restart=on-failure, Kubernetes): adsync sends
// each JetStream request of its start-up (provisioning) once, and on a
// cluster an answer is sometimes lost (README.md in this folder).
func startService(t *testing.T, dir, config, name string) *Service {
	t.Helper()
	return startServiceFor(t, t, dir, config, name)
}

// startServiceFor is startService for a process that outlives the
// (sub)test t that starts it: owner stops it when owner ends.
func startServiceFor(t, owner *testing.T, dir, config, name string) *Service {
	t.Helper()
	for attempt := 1; ; attempt++ {
		s := launchService(t, owner, dir, config, name)
		err := s.waitRunning()
		if err == nil {
			return s
		}
		if attempt == 3 || !s.exited() {
			t.Fatal(err)
		}
		t.Logf("restarting like a supervisor would (start %d of 3): %v", attempt+1, err)
	}
}

// launchService starts the process without waiting for it.
func launchService(t, owner *testing.T, dir, config, name string) *Service {
	t.Helper()
	logFile, err := os.CreateTemp(dir, name+"-*.log")
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(adsyncBin, "serve", name, "-c", config)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start adsync serve %s: %v", name, err)
	}
	s := &Service{Name: name, LogFile: logFile.Name(), cmd: cmd, done: make(chan struct{})}
	go func() { s.err = cmd.Wait(); close(s.done) }()
	owner.Cleanup(func() { s.stop(owner) })
	return s
}

// waitRunning waits until the service logs "adsync is running".
func (s *Service) waitRunning() error {
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(s.Log(), "adsync is running") {
		if s.exited() {
			return fmt.Errorf("adsync serve %s exited at start (%v):\n%s", s.Name, s.err, tailLines(s.Log(), 20))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("adsync serve %s not running after 60s:\n%s", s.Name, tailLines(s.Log(), 20))
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// exited reports whether the process has exited.
func (s *Service) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Log returns what the service logged so far.
func (s *Service) Log() string {
	raw, _ := os.ReadFile(s.LogFile)
	return string(raw)
}

// Kill kills the service with SIGKILL (no drain) and waits for it.
func (s *Service) Kill(t *testing.T) {
	t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("adsync serve %s did not die", s.Name)
	}
}

// stop sends SIGTERM and checks that the service drains and exits 0.
func (s *Service) stop(t *testing.T) {
	select {
	case <-s.done:
		return // killed by the test
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		if s.err != nil {
			t.Errorf("adsync serve %s did not stop cleanly: %v\n%s", s.Name, s.err, tailLines(s.Log(), 20))
		}
	case <-time.After(60 * time.Second):
		_ = s.cmd.Process.Kill()
		t.Errorf("adsync serve %s did not stop within 60s of SIGTERM", s.Name)
	}
	if t.Failed() {
		t.Logf("last lines of %s:\n%s", filepath.Base(s.LogFile), tailLines(s.Log(), 40))
		keepLogs(t, s.LogFile)
	}
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// pollFor polls cond every 50ms until it holds or timeout passes.
func pollFor(t *testing.T, what string, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s: %v", timeout, what, fmt.Errorf("last error: %w", err))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

package e2e

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// WithBinary runs `adsync run` as another adsync executable (an older
// version: older.Adsync) until Upgrade.
func WithBinary(path string) Option { return func(s *System) { s.binary = path } }

// startBinary starts `adsync run` as s.binary, writing to the system's
// log; ready is called once the log says it is running. Cancelling ctx
// stops it as SIGTERM does, and s.done gets how it exited.
func (s *System) startBinary(ctx context.Context, ready func()) {
	cmd := exec.Command(s.binary, "run", "-c", s.ConfigPath)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start %s: %v", s.binary, err)
	}
	exited := make(chan struct{})
	go func() {
		err := cmd.Wait()
		close(exited)
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.Sys().(syscall.WaitStatus).Signaled() {
			err = errors.New(exit.String())
		}
		s.done <- err
	}()
	go func() {
		select {
		case <-ctx.Done():
			_ = cmd.Process.Signal(syscall.SIGTERM)
		case <-exited:
		}
	}()
	// Only what this start writes counts: the log is appended to.
	logPath := filepath.Join(s.Dir, "adsync.log")
	var from int64
	if st, err := s.log.Stat(); err == nil {
		from = st.Size()
	}
	go func() {
		for {
			select {
			case <-exited:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if raw, err := os.ReadFile(logPath); err == nil && int64(len(raw)) > from && strings.Contains(string(raw[from:]), "adsync is running") {
				ready()
				return
			}
		}
	}()
}

// Upgrade stops the older adsync (WithBinary) and starts the code under
// test on the same configuration and data.
func (s *System) Upgrade() {
	s.t.Helper()
	s.Stop()
	s.binary = ""
	s.writeConfig()
	s.start()
}

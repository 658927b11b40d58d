package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The binary itself: `adsync run` drains and exits 0 on SIGTERM, and a bad
// configuration stops it at once with one line per problem.
func TestBinaryRunStopsCleanlyOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "adsync")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	pw := filepath.Join(dir, "pw")
	_ = os.WriteFile(pw, []byte("x\n"), 0o600)
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	cfg := filepath.Join(dir, "adsync.yaml")
	write := func(body string) {
		if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	domain := fmt.Sprintf(`
data_dir: %s
nats:
  listen: %s
domains:
  - name: corp
    url: ldaps://127.0.0.1:1
    bind_dn: svc@corp.example.com
    bind_password_file: %s
    base_dn: DC=corp,DC=example,DC=com
`, filepath.Join(dir, "data"), addr, pw)

	t.Run("bad config", func(t *testing.T) {
		write(strings.Replace(domain, "    base_dn: DC=corp,DC=example,DC=com\n", "", 1) + "    bind_password: hunter2\n")
		var stderr bytes.Buffer
		cmd := exec.Command(bin, "run", "-c", cfg)
		cmd.Stderr = &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() == 0 {
			t.Fatalf("bad config: exit %v", err)
		}
		for _, w := range []string{`domain "corp": base_dn is required`, `domain "corp": bind_password must not be written`} {
			if !strings.Contains(stderr.String(), w) {
				t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
			}
		}
		if strings.Contains(stderr.String(), "hunter2") {
			t.Error("the password from the YAML is echoed")
		}
	})

	t.Run("admin command while adsync is not running", func(t *testing.T) {
		write(domain)
		var stderr bytes.Buffer
		cmd := exec.Command(bin, "job", "list", "-c", cfg)
		cmd.Stderr = &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() == 0 {
			t.Fatalf("job list with nothing listening: exit %v", err)
		}
		if want := "is adsync running? start it with: adsync run -c " + cfg; !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	})

	t.Run("SIGTERM", func(t *testing.T) {
		write(domain)
		var stderr lockedBuffer
		cmd := exec.Command(bin, "run", "-c", cfg)
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for !strings.Contains(stderr.String(), "adsync is running") {
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				t.Fatalf("not running after 20s:\n%s", stderr.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr.String())
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatal("did not exit within 30s of SIGTERM")
		}
		if !strings.Contains(stderr.String(), "draining") {
			t.Errorf("no word of draining in the log:\n%s", stderr.String())
		}
	})
}

// lockedBuffer is a bytes.Buffer safe to read while a process writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

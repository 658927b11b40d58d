package natscluster

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/adsync/adsync/internal/testenv"
)

// natsServerModule is the Go module (a main package) the test clusters run.
const natsServerModule = "github.com/nats-io/nats-server/v2"

var natsServerBin struct {
	once sync.Once
	path string
	err  error
}

// ServerBinary returns the path of a nats-server binary built from the
// module version in go.mod. It is built once per machine and version, under
// os.TempDir()/adsync-nats-server/<version>, and reused by every test
// process (an flock serialises the build).
func ServerBinary() (string, error) {
	natsServerBin.once.Do(func() {
		natsServerBin.path, natsServerBin.err = buildNATSServer()
	})
	return natsServerBin.path, natsServerBin.err
}

func buildNATSServer() (string, error) {
	goBin, err := testenv.GoTool()
	if err != nil {
		return "", err
	}
	version, err := moduleVersion(goBin, natsServerModule)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(os.TempDir(), "adsync-nats-server", version)
	bin := filepath.Join(dir, "nats-server")
	unlock, err := testenv.LockFile(filepath.Join(dir, ".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if binaryReports(bin, version) {
		return bin, nil
	}
	// Build next to the target and rename: a reader never sees half a file.
	tmp := fmt.Sprintf("%s.%d.tmp", bin, os.Getpid())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", tmp, natsServerModule)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("build nats-server %s: %w\n%s", version, err, testenv.Tail(string(out), 20))
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", fmt.Errorf("install nats-server binary: %w", err)
	}
	if !binaryReports(bin, version) {
		return "", fmt.Errorf("built %s but it does not report version %s", bin, version)
	}
	return bin, nil
}

// binaryReports runs `bin --version` and checks that it prints version.
func binaryReports(bin, version string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--version").CombinedOutput()
	return err == nil && strings.Contains(string(out), version)
}

// moduleVersion asks the go tool which version of module the main module
// requires (a replacement's version when it is replaced).
func moduleVersion(goBin, module string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, goBin, "list", "-m", "-f", "{{if .Replace}}{{.Replace.Version}}{{else}}{{.Version}}{{end}}", module)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list -m %s: %w: %s", module, err, strings.TrimSpace(stderr.String()))
	}
	v := strings.TrimSpace(string(out))
	if v == "" || strings.ContainsAny(v, `/\ `) {
		return "", fmt.Errorf("go list -m %s: unusable version %q", module, v)
	}
	return v, nil
}

package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// GoTool finds the go command (PATH, then the usual install location).
func GoTool() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	for _, p := range []string{filepath.Join(os.Getenv("GOROOT"), "bin", "go"), "/usr/local/go/bin/go"} {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("the go command is not in PATH (nor /usr/local/go/bin): it builds nats-server for the test cluster")
}

package clustertest

import (
	"os"
	"path/filepath"
	"testing"
)

// keepLogs copies files into $ADSYNC_CLUSTERTEST_LOGS/<test name>/ when the
// test fails and the variable is set (the test's own directories are
// deleted when it ends).
func keepLogs(t *testing.T, files ...string) {
	dir := os.Getenv("ADSYNC_CLUSTERTEST_LOGS")
	if dir == "" || !t.Failed() {
		return
	}
	dst := filepath.Join(dir, filepath.Clean("/" + t.Name())[1:])
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Logf("keep logs: %v", err)
		return
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		name := filepath.Base(filepath.Dir(f)) + "-" + filepath.Base(f)
		if err := os.WriteFile(filepath.Join(dst, name), raw, 0o644); err != nil {
			t.Logf("keep logs: %v", err)
		}
	}
	t.Logf("logs kept in %s", dst)
}

package clustertest

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// adsyncBin is the adsync binary the tests run, built once by TestMain.
var adsyncBin string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run()) // every test skips
	}
	dir, err := os.MkdirTemp("", "adsync-clustertest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "clustertest:", err)
		os.Exit(1)
	}
	adsyncBin, err = buildAdsync(dir)
	code := 1
	if err != nil {
		fmt.Fprintln(os.Stderr, "clustertest:", err)
	} else {
		code = m.Run()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildAdsync builds the adsync binary into dir.
func buildAdsync(dir string) (string, error) {
	bin := filepath.Join(dir, "adsync")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/adsync/adsync").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build adsync: %w\n%s", err, out)
	}
	return bin, nil
}

// needsCluster skips a test under -short.
func needsCluster(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a 3-node NATS cluster and adsync processes")
	}
}

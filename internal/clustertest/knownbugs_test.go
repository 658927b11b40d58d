package clustertest

import (
	"os"
	"testing"
)

// knownBug reports a bug of adsync that this test found and that is
// described in README.md in this folder: the test skips, saying why, so
// that `go test ./...` stays usable while the bug is open. With
// ADSYNC_KNOWN_BUGS=fail it fails instead (to check a fix). The checks
// that lead here only fire while the bug is there: once it is fixed, the
// test asserts the intended behaviour.
func knownBug(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("ADSYNC_KNOWN_BUGS") == "fail" {
		t.Fatalf("KNOWN BUG: "+format, args...)
	}
	t.Skipf("KNOWN BUG (ADSYNC_KNOWN_BUGS=fail to fail instead): "+format, args...)
}

// knownBugNote logs a known bug that does not stop the test (it fails
// with ADSYNC_KNOWN_BUGS=fail).
func knownBugNote(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("ADSYNC_KNOWN_BUGS") == "fail" {
		t.Errorf("KNOWN BUG: "+format, args...)
		return
	}
	t.Logf("KNOWN BUG (ADSYNC_KNOWN_BUGS=fail to fail instead): "+format, args...)
}

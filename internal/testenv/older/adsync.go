package older

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/adsync/adsync/internal/testenv"
)

// Adsync builds adsync as it was just before the newest commit that
// added a store migration (schemas/migrations), from the git history of
// the working tree, and returns the binary and that commit. An upgrade
// test runs it first and the code under test next, on the same data. It
// skips the test when the history is not at hand (no git, not a
// repository, or a shallow clone).
func Adsync(t testing.TB) (bin, commit string) {
	t.Helper()
	goBin, err := testenv.GoTool()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	git := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "git", args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return "", &gitError{args: args, err: err, stderr: strings.TrimSpace(stderr.String())}
		}
		return strings.TrimSpace(string(out)), nil
	}
	root, err := git("rev-parse", "--show-toplevel")
	if err != nil {
		t.Skipf("no git history to build an older adsync from: %v", err)
	}
	if shallow, _ := git("-C", root, "rev-parse", "--is-shallow-repository"); shallow == "true" {
		t.Skip("a shallow clone: no history to build an older adsync from")
	}
	added, err := git("-C", root, "log", "-1", "--format=%H", "--diff-filter=A", "--", "schemas/migrations")
	if err != nil || added == "" {
		t.Skipf("no commit that added a migration: %v", err)
	}
	commit, err = git("-C", root, "rev-parse", added+"^")
	if err != nil {
		t.Skipf("the commit before %s is not in this clone: %v", added, err)
	}
	src := filepath.Join(t.TempDir(), "adsync-"+commit[:12])
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	archive := exec.CommandContext(ctx, "git", "-C", root, "archive", commit)
	untar := exec.CommandContext(ctx, "tar", "-x", "-C", src)
	if untar.Stdin, err = archive.StdoutPipe(); err != nil {
		t.Fatal(err)
	}
	if err := archive.Start(); err != nil {
		t.Fatal(err)
	}
	if out, err := untar.CombinedOutput(); err != nil {
		t.Fatalf("unpack adsync at %s: %v\n%s", commit, err, out)
	}
	if err := archive.Wait(); err != nil {
		t.Fatalf("git archive %s: %v", commit, err)
	}
	bin = filepath.Join(src, "adsync")
	build := exec.CommandContext(ctx, goBin, "build", "-o", bin, ".")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build adsync at %s: %v\n%s", commit, err, out)
	}
	return bin, commit
}

type gitError struct {
	args   []string
	err    error
	stderr string
}

func (e *gitError) Error() string {
	return "git " + strings.Join(e.args, " ") + ": " + e.err.Error() + ": " + e.stderr
}

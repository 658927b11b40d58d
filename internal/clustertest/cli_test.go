package clustertest

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/internal/cli"
	"github.com/adsync/adsync/services/account-writer/accounts"
)

// Result is the outcome of one adsync command line.
type Result struct {
	Stdout, Stderr string
	Err            error
}

// runCLI runs the adsync binary with args and -c config.
func runCLI(config string, args ...string) Result {
	return runCLIContext(context.Background(), config, args...)
}

// runCLIContext is runCLI that ctx ending kills.
func runCLIContext(ctx context.Context, config string, args ...string) Result {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, adsyncBin, append(args, "-c", config)...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return Result{Stdout: out.String(), Stderr: errb.String(), Err: err}
}

// mustCLI runs a command that must succeed and returns its output.
func mustCLI(t *testing.T, config string, args ...string) string {
	t.Helper()
	r := runCLI(config, args...)
	if r.Err != nil {
		t.Fatalf("adsync %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.Err, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// parseRun decodes the summary `job run --wait --json` printed.
func parseRun(t *testing.T, r Result) cli.RunSummary {
	t.Helper()
	var sum cli.RunSummary
	if err := json.Unmarshal([]byte(r.Stdout), &sum); err != nil {
		t.Fatalf("job run printed no summary (%v): exit %v\nstdout: %s\nstderr: %s", err, r.Err, r.Stdout, r.Stderr)
	}
	return sum
}

// runJob runs a job, waits for it and returns its summary; the run must
// complete.
func runJob(t *testing.T, config, job string) cli.RunSummary {
	t.Helper()
	r := runCLI(config, "job", "run", job, "--wait", "--json", "--timeout", "3m")
	sum := parseRun(t, r)
	if r.Err != nil || sum.Outcome != "completed" {
		t.Fatalf("run of %s: outcome %s (exit %v), reasons %v\nstderr: %s", job, sum.Outcome, r.Err, sum.Reasons, r.Stderr)
	}
	return sum
}

// listAccounts returns `adsync accounts list --json`.
func listAccounts(t *testing.T, config string) []accounts.Account {
	t.Helper()
	var list []accounts.Account
	if err := json.Unmarshal([]byte(mustCLI(t, config, "accounts", "list", "--json")), &list); err != nil {
		t.Fatalf("accounts list --json: %v", err)
	}
	return list
}

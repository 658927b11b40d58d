package clustertest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/adsync/adsync/internal/infra/cpusched"
	"github.com/adsync/adsync/internal/testenv/slapd"
)

// `adsync run` schedules its threads as process.cpu_scheduling says:
// under SCHED_BATCH by default, every thread, those started during a sync
// included; "normal" leaves them as started. A sync completes either way.
func TestCPUSchedulingOfAdsyncRun(t *testing.T) {
	t.Parallel()
	if p, err := cpusched.Of(os.Getpid()); err != nil || p != string(cpusched.Normal) {
		t.Skipf("the test runs under %q (%v): its children would inherit it", p, err)
	}
	const n = 300
	openldap := slapd.Start(t, slapd.WithUsers(n))
	for _, tt := range []struct{ name, setting, want string }{
		{"default", "", "batch"},
		{"batch", "batch", "batch"},
		{"normal", "normal", "normal"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			config := writeCrashConfig(t, dir, openldap, crashConfigOptions{listen: freeListenAddr(t), dataDir: filepath.Join(dir, "data"), cpuScheduling: tt.setting})
			run := launchRun(t, t, dir, config)
			if err := run.waitRunning(); err != nil {
				t.Fatal(err)
			}
			mustCLI(t, config, "job", "create", "lab-sync", "--all-domains")
			sum := runJob(t, config, "lab-sync")
			if len(sum.Domains) != 1 || sum.Domains[0].Created != n {
				t.Fatalf("first sync: %+v", sum.Domains)
			}
			// After the sync: the threads the runtime started for it too.
			pols, err := threadPolicies(run.cmd.Process.Pid)
			if err != nil {
				t.Fatal(err)
			}
			for tid, p := range pols {
				if p != tt.want {
					t.Errorf("thread %d of adsync run: %s, want %s", tid, p, tt.want)
				}
			}
			t.Logf("%d threads, all %s", len(pols), tt.want)
		})
	}
}

// threadPolicies returns the scheduling policy of every thread of pid.
func threadPolicies(pid int) (map[int]string, error) {
	out, err := cpusched.OfProcess(pid)
	if err == nil && len(out) == 0 {
		err = fmt.Errorf("no threads of %d", pid)
	}
	return out, err
}

package samba

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/adsync/adsync/internal/testenv"
)

// startSamba starts the DC as a daemon (it detaches, so it outlives the test
// binary) and polls until an LDAPS bind as Administrator works.
func startSamba(ctx context.Context, l sambaLayout, password string) error {
	for _, addr := range []string{sambaLDAPSAddr, sambaLDAPAddr} {
		if !testenv.PortFree(addr) {
			return fmt.Errorf("%s is already in use by another process: stop it "+
				"(another Samba? try `go run ./internal/testenv/fixturectl samba down --dir DIR` "+
				"with that DC's state dir, or `ss -ltnp` to find it)", addr)
		}
	}
	out, err := os.OpenFile(l.logFile()+".stdout", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open samba stdout log: %w", err)
	}
	defer out.Close()
	// -D: samba forks and the parent exits once the daemon is set up. Its
	// output goes to a file, never to our stdout: `go test` would otherwise
	// wait for the daemon to close the pipe.
	cmd := exec.CommandContext(ctx, "samba", "-D", "-s", l.confFile())
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("start samba: %w\n%s", err, logTail(l))
	}

	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	err = testenv.PollUntil(ctx, 100*time.Millisecond, func() error {
		pid, _ := testenv.ReadPidFile(l.pidFile())
		if pid != 0 && !testenv.ProcessAlive(pid) {
			return fmt.Errorf("samba (pid %d) exited", pid)
		}
		return checkSambaBind(l, password, 5*time.Second)
	})
	if err != nil {
		return fmt.Errorf("samba did not become ready: %w\n%s", err, logTail(l))
	}
	return nil
}

// stopSamba stops the DC whose pid file is in l, and waits until its LDAP
// ports are free again.
func stopSamba(l sambaLayout) error {
	pid, err := testenv.ReadPidFile(l.pidFile())
	if err != nil {
		return err
	}
	if pid != 0 {
		if err := testenv.Terminate(pid, 20*time.Second); err != nil {
			return fmt.Errorf("stop samba: %w", err)
		}
		// Workers exit right after the master; wait for the ports.
		testenv.WaitFor(10*time.Second, func() bool { return testenv.PortFree(sambaLDAPSAddr) && testenv.PortFree(sambaLDAPAddr) })
	}
	_ = os.Remove(l.pidFile())
	return nil
}

func logTail(l sambaLayout) string {
	var s string
	for _, f := range []string{l.logFile() + ".stdout", l.logFile()} {
		if b, err := os.ReadFile(f); err == nil && len(b) > 0 {
			s += "--- " + f + " (testenv.Tail) ---\n" + testenv.Tail(string(b), 20) + "\n"
		}
	}
	return s
}

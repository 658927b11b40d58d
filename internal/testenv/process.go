package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ReadPidFile returns the pid stored in path, or 0 when there is none.
func ReadPidFile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read pid file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return 0, fmt.Errorf("pid file %s: bad content %q", path, strings.TrimSpace(string(b)))
	}
	return pid, nil
}

// ProcessAlive reports whether pid exists and is not a zombie.
func ProcessAlive(pid int) bool {
	if pid <= 1 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// Field 3 is the state; the command name in field 2 may contain spaces.
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}

// Terminate sends SIGTERM to pid (and its process group, when it leads one),
// waits up to grace for it to exit, then SIGKILLs it.
func Terminate(pid int, grace time.Duration) error {
	if !ProcessAlive(pid) {
		return nil
	}
	signalGroup(pid, syscall.SIGTERM)
	if WaitFor(grace, func() bool { return !ProcessAlive(pid) }) {
		return nil
	}
	signalGroup(pid, syscall.SIGKILL)
	if WaitFor(5*time.Second, func() bool { return !ProcessAlive(pid) }) {
		return nil
	}
	return fmt.Errorf("process %d did not exit after SIGKILL", pid)
}

// signalGroup signals pid's process group if pid leads its own group (and it
// is not ours), else just pid.
func signalGroup(pid int, sig syscall.Signal) {
	pgid, err := syscall.Getpgid(pid)
	if err == nil && pgid == pid && pgid != syscall.Getpgrp() {
		_ = syscall.Kill(-pgid, sig)
		return
	}
	_ = syscall.Kill(pid, sig)
}

// WaitFor polls cond every 50ms until it is true or d has passed.
func WaitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// PollUntil calls try every interval until it returns nil or ctx ends; it
// returns the last error of try.
func PollUntil(ctx context.Context, interval time.Duration, try func() error) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		err := try()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
		case <-t.C:
		}
	}
}

// PortFree reports whether addr can be listened on right now.
func PortFree(addr string) bool {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

var ErrPortInUse = errors.New("address already in use")

func IsClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Child processes.
//
// Every child gets Pdeathsig SIGKILL, so that it dies with the bench even
// when the bench itself is SIGKILLed. Pdeathsig fires when the *thread* that
// forked the child exits, and Go may retire threads, so every child is
// started from one goroutine locked to its OS thread for the life of the
// process. Children also get their own process group: a Ctrl-C in the
// terminal reaches only the bench, which then stops them in order.

type spawnReq struct {
	cmd *exec.Cmd
	res chan error
}

var spawnCh = make(chan spawnReq)

func init() {
	go func() {
		runtime.LockOSThread() // never unlocked: this thread lives as long as the process
		for r := range spawnCh {
			r.res <- r.cmd.Start()
		}
	}()
}

// startCmd starts cmd from the spawner thread with Pdeathsig and Setpgid.
func startCmd(cmd *exec.Cmd) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	cmd.SysProcAttr.Setpgid = true
	res := make(chan error, 1)
	spawnCh <- spawnReq{cmd: cmd, res: res}
	return <-res
}

// runCmd runs cmd to completion (started like startCmd), killing it when
// ctx ends.
func runCmd(ctx context.Context, cmd *exec.Cmd) error {
	if err := startCmd(cmd); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		case <-done:
		}
	}()
	err := cmd.Wait()
	close(done)
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}

// child is a long-running child process (nats-server, an adsync service).
type child struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	logFile *os.File
	done    chan struct{}
	waitErr error
}

func (c *child) pid() int { return c.cmd.Process.Pid }

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// procs tracks the long-running children so that they are all stopped at
// the end, whatever happens.
type procs struct {
	mu   sync.Mutex
	list []*child
}

var children = &procs{}

// start starts argv as a named child with stdout and stderr appended to
// logPath.
func (p *procs) start(name, logPath string, argv []string, env []string) (*child, error) {
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = lf, lf
	if env != nil {
		cmd.Env = env
	}
	if err := startCmd(cmd); err != nil {
		lf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, logPath: logPath, logFile: lf, done: make(chan struct{})}
	go func() {
		c.waitErr = cmd.Wait()
		lf.Close()
		close(c.done)
	}()
	p.mu.Lock()
	p.list = append(p.list, c)
	p.mu.Unlock()
	return c, nil
}

// stop stops c: SIGTERM, then SIGKILL after grace. It returns c's exit error
// when it did not exit cleanly on SIGTERM.
func (c *child) stop(grace time.Duration) error {
	if c.exited() {
		return nil
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
		return c.waitErr
	case <-time.After(grace):
	}
	_ = syscall.Kill(-c.pid(), syscall.SIGKILL)
	<-c.done
	return fmt.Errorf("%s (pid %d) did not exit within %s of SIGTERM; killed", c.name, c.pid(), grace)
}

// stopAll stops every child still running, newest first.
func (p *procs) stopAll(grace time.Duration) {
	p.mu.Lock()
	list := append([]*child(nil), p.list...)
	p.list = nil
	p.mu.Unlock()
	for i := len(list) - 1; i >= 0; i-- {
		_ = list[i].stop(grace)
	}
}

// remove forgets stopped children.
func (p *procs) remove(cs ...*child) {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.list[:0]
	for _, c := range p.list {
		keep := true
		for _, r := range cs {
			if c == r {
				keep = false
			}
		}
		if keep {
			out = append(out, c)
		}
	}
	p.list = out
}

// tailFile returns the last n lines of path.
func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// output runs argv and returns its combined output.
func output(ctx context.Context, argv ...string) (string, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := runCmd(ctx, cmd)
	return buf.String(), err
}

var errFailed = errors.New("bench failed")

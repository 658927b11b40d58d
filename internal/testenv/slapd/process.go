package slapd

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/adsync/adsync/internal/testenv"
)

// slapdProcess is a running slapd: a child process (tests) or a detached
// daemon known by its pid (fixturectl).
type slapdProcess struct {
	cmd  *exec.Cmd     // nil for a daemon
	done chan struct{} // closed when cmd has exited
	pid  int
}

// Stop stops slapd (the data stays), e.g. to make the directory unreachable
// in the middle of a test. Start brings it back on the same ports.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if err := s.stop(); err != nil {
		t.Fatalf("testenv: stop slapd: %v", err)
	}
}

// Start starts a stopped slapd again on the same ports with the same data
// and waits until it answers.
func (s *Server) Start(t testing.TB) {
	t.Helper()
	if err := s.start(); err != nil {
		t.Fatalf("testenv: start slapd: %v", err)
	}
}

// StartE is Start for callers without a testing.TB.
func (s *Server) StartE() error { return s.start() }

// StopE is Stop for callers without a testing.TB.
func (s *Server) StopE() error { return s.stop() }

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		return nil
	}
	for attempt := 1; ; attempt++ {
		if s.ldapPort == 0 || s.ldapsPort == 0 {
			var err error
			if s.ldapPort, s.ldapsPort, err = twoFreePorts(); err != nil {
				return err
			}
		}
		s.LDAPURL = "ldap://127.0.0.1:" + strconv.Itoa(s.ldapPort)
		s.LDAPSURL = "ldaps://127.0.0.1:" + strconv.Itoa(s.ldapsPort)
		p, err := s.launch()
		if err == nil {
			s.proc = p
			s.autoPorts = false // restarts keep these ports
			return nil
		}
		if !s.autoPorts || !errors.Is(err, testenv.ErrPortInUse) || attempt == 3 {
			return err
		}
		s.ldapPort, s.ldapsPort = 0, 0 // lost a race for the port: pick others
	}
}

func (s *Server) launch() (*slapdProcess, error) {
	logPath := filepath.Join(s.Dir, "slapd.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open slapd log: %w", err)
	}
	defer logFile.Close()
	_ = os.Remove(s.pidFile())

	urls := s.LDAPURL + "/ " + s.LDAPSURL + "/"
	p := &slapdProcess{done: make(chan struct{})}
	if s.daemon {
		// Without -d slapd forks, and the parent exits when it is set up.
		cmd := exec.Command("slapd", "-f", s.ConfFile, "-h", urls)
		cmd.Stdout, cmd.Stderr = logFile, logFile
		if err := cmd.Run(); err != nil {
			return nil, s.launchError(fmt.Errorf("slapd: %w", err), logPath)
		}
		close(p.done)
	} else {
		// -d 0: stay in the foreground as our child; the kernel kills it
		// if the test binary dies without running its cleanups.
		cmd := exec.Command("slapd", "-d", "0", "-f", s.ConfFile, "-h", urls)
		cmd.Stdout, cmd.Stderr = logFile, logFile
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("start slapd: %w", err)
		}
		p.cmd, p.pid = cmd, cmd.Process.Pid
		go func() { _ = cmd.Wait(); close(p.done) }()
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = testenv.PollUntil(ctx, 50*time.Millisecond, func() error {
		if s.daemon {
			pid, _ := testenv.ReadPidFile(s.pidFile())
			if pid == 0 {
				return errors.New("no pid file yet")
			}
			p.pid = pid
			if !testenv.ProcessAlive(pid) {
				return nil // exited: stop polling, report below
			}
		} else {
			select {
			case <-p.done:
				return nil
			default:
			}
		}
		c, err := testenv.DialAdmin(s.LDAPSURL, s.CAFile, s.ServerName, s.BindDN, s.Password, 5*time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	})
	exited := (s.daemon && !testenv.ProcessAlive(p.pid)) || (!s.daemon && testenv.IsClosed(p.done))
	if exited {
		return nil, s.launchError(errors.New("slapd exited during start-up"), logPath)
	}
	if err != nil {
		_ = p.terminate()
		return nil, s.launchError(fmt.Errorf("slapd did not answer: %w", err), logPath)
	}
	return p, nil
}

func (s *Server) launchError(err error, logPath string) error {
	b, _ := os.ReadFile(logPath)
	if strings.Contains(string(b), "Address already in use") {
		err = fmt.Errorf("%w: %w", testenv.ErrPortInUse, err)
	}
	return fmt.Errorf("%w\n--- %s (testenv.Tail) ---\n%s", err, logPath, testenv.Tail(string(b), 15))
}

func (s *Server) stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		s.conn.Close()
		s.conn = nil
	}
	if s.proc == nil {
		return nil
	}
	err := s.proc.terminate()
	s.proc = nil
	return err
}

func (s *Server) pidFile() string { return filepath.Join(s.Dir, "slapd.pid") }

// terminate stops slapd with SIGTERM (it then syncs and closes the database),
// escalating to SIGKILL after 10 seconds.
func (p *slapdProcess) terminate() error {
	if p.cmd == nil {
		return testenv.Terminate(p.pid, 10*time.Second)
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
		return nil
	case <-time.After(5 * time.Second):
		return fmt.Errorf("slapd (pid %d) did not exit", p.pid)
	}
}

// twoFreePorts returns two distinct ports that were free on 127.0.0.1.
//
// They are drawn from below the kernel's ephemeral range (32768-60999 on
// Linux): ports the kernel hands out for ":0" listeners and outgoing
// connections. A slapd that a test stops and starts again keeps its ports,
// and a port outside that range is not taken meanwhile by somebody else's
// ":0" listener or connection.
func twoFreePorts() (int, int, error) {
	const lo, hi = 20000, 32000
	var ports []int
	var closers []func() error
	defer func() {
		for _, c := range closers {
			c()
		}
	}()
	for tries := 0; len(ports) < 2 && tries < 200; tries++ {
		p := lo + rand.IntN(hi-lo)
		if len(ports) == 1 && ports[0] == p {
			continue
		}
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		closers = append(closers, ln.Close)
		ports = append(ports, p)
	}
	if len(ports) < 2 {
		return 0, 0, fmt.Errorf("find two free ports in %d-%d: none after 200 tries", lo, hi)
	}
	return ports[0], ports[1], nil
}

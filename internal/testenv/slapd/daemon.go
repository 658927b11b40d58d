package slapd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/adsync/adsync/internal/testenv"
)

// StartDaemon creates a slapd in dir with n preloaded users and starts
// it detached (it keeps running after this process exits; stop it with
// StopDaemon). ldapPort is the ldap:// port (0 = any free one); the
// ldaps:// port is ldapPort+1 (any free one when ldapPort is 0). dir must be
// empty, missing, or a previous StartDaemon directory whose slapd is
// stopped (its content is replaced).
func StartDaemon(dir string, n, ldapPort int, opts ...Option) (*Server, error) {
	if err := prepareSlapdDir(dir); err != nil {
		return nil, err
	}
	ldapsPort := 0
	if ldapPort != 0 {
		ldapsPort = ldapPort + 1
	}
	s, err := New(dir, append([]Option{WithUsers(n), WithPorts(ldapPort, ldapsPort), WithDaemon()}, opts...)...)
	if err != nil {
		return nil, err
	}
	if err := s.StartE(); err != nil {
		return nil, err
	}
	return s, nil
}

// StopDaemon stops the slapd started by StartDaemon in dir. The
// data stays in dir.
func StopDaemon(dir string) error {
	pid, err := testenv.ReadPidFile(filepath.Join(dir, "slapd.pid"))
	if err != nil {
		return err
	}
	if pid == 0 || !testenv.ProcessAlive(pid) {
		return nil
	}
	if !isSlapd(pid) {
		return fmt.Errorf("pid %d in %s/slapd.pid is not slapd", pid, dir)
	}
	return testenv.Terminate(pid, 10*time.Second)
}

func prepareSlapdDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) || (err == nil && len(entries) == 0) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("slapd dir: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "slapd.conf")); err != nil {
		return fmt.Errorf("%s is not empty and holds no slapd.conf: refusing to reuse it", dir)
	}
	if pid, _ := testenv.ReadPidFile(filepath.Join(dir, "slapd.pid")); pid != 0 && testenv.ProcessAlive(pid) && isSlapd(pid) {
		return fmt.Errorf("a slapd (pid %d) is running in %s: stop it first (slapd down)", pid, dir)
	}
	for _, name := range []string{"data", "tls", "slapd.conf", "admin.password", "slapd.log", "slapd.pid", "slapd.args"} {
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("clean %s: %w", dir, err)
		}
	}
	return nil
}

func isSlapd(pid int) bool {
	comm, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	return err == nil && strings.TrimSpace(string(comm)) == "slapd"
}

package samba

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/adsync/adsync/internal/testenv"
)

// DC is the handle of the shared Samba AD domain controller.
type DC struct {
	testenv.Admin        // Modify, Move, Search, Attr, AddMember, RemoveMember
	LDAPSURL      string // "ldaps://127.0.0.1:636"
	StartTLSURL   string // "ldap://127.0.0.1:389" (StartTLS required for binds)
	CAFile        string // PEM of the CA that signed the DC's certificate
	ServerName    string // "dc1.corp.example.com", a name in the DC's certificate
	BindDN        string // "Administrator@corp.example.com"
	PasswordFile  string // holds Password, mode 0600
	Password      string
	BaseDN        string // "DC=corp,DC=example,DC=com"
	Dir           string // state directory
	SamLDB        string // path of sam.ldb, for ldbsearch/ldbadd
	ConfFile      string // path of the DC's smb.conf

	mu   sync.Mutex
	conn *ldap.Conn // admin connection shared by the helpers

	// How this process got the DC, for logs.
	provisionTime, startTime time.Duration // zero when an existing DC was reused
}

var (
	sambaMu     sync.Mutex
	sambaByDir  = map[string]*DC{}
	errNotRoot  = errors.New("the Samba AD DC test harness needs root (samba binds 127.0.0.1:389/636 and runs as root); run the tests as root, e.g. in the CI container")
	sambaBinary = []string{"samba", "samba-tool", "ldbadd", "ldbsearch"}
)

// Samba returns the shared DC, provisioning and starting it if needed. The
// first call in a process checks (under an flock shared with every other
// process) that a DC provisioned by this harness version is running and
// answers an LDAPS bind; otherwise it stops whatever is left, provisions a
// new domain and starts it. The DC is left running when the tests end.
func Start(t testing.TB) *DC {
	t.Helper()
	sambaMu.Lock()
	defer sambaMu.Unlock()
	dir := StateDir()
	if dc := sambaByDir[dir]; dc != nil {
		return dc
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	dc, err := Ensure(ctx, dir)
	if err != nil {
		t.Fatalf("testenv: Samba AD DC in %s: %v", dir, err)
	}
	if dc.provisionTime == 0 {
		t.Logf("testenv: reusing the running Samba AD DC in %s (checked in %v)", dir, time.Since(start).Round(time.Millisecond))
	} else {
		t.Logf("testenv: provisioned a Samba AD DC in %s in %v, started it in %v (total %v)", dir,
			dc.provisionTime.Round(time.Millisecond), dc.startTime.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	}
	sambaByDir[dir] = dc
	return dc
}

// Ensure is Samba without testing.TB, for commands and scripts.
//
// Every process that got the DC holds a shared lock on a file in dir until
// it exits. A DC whose database has grown beyond 256 MiB is provisioned
// again, but only when no other process holds that lock, so that a run
// never pulls the DC from under another one.
func Ensure(ctx context.Context, dir string) (*DC, error) {
	if os.Geteuid() != 0 {
		return nil, errNotRoot
	}
	for _, bin := range sambaBinary {
		if _, err := exec.LookPath(bin); err != nil {
			return nil, fmt.Errorf("%s not found: install the Debian packages samba samba-ad-dc ldb-tools: %w", bin, err)
		}
	}
	l := sambaLayout{dir: dir}
	unlock, err := testenv.LockFile(l.lockFile())
	if err != nil {
		return nil, err
	}
	defer unlock()

	if password, err := sambaHealthy(ctx, l); err == nil {
		if !sambaTooBig(l) || !testenv.NobodyHolds(l.inUseFile()) {
			if err := testenv.HoldShared(l.inUseFile()); err != nil {
				return nil, err
			}
			return newSambaDC(l, password), nil
		}
		// Grown too big and unused: start afresh below.
	}
	if err := stopSamba(l); err != nil {
		return nil, err
	}
	_ = os.Remove(l.stampFile())
	t0 := time.Now()
	password, err := provisionSamba(ctx, l)
	if err != nil {
		return nil, err
	}
	t1 := time.Now()
	if err := startSamba(ctx, l, password); err != nil {
		return nil, err
	}
	if err := os.WriteFile(l.stampFile(), []byte(sambaHarnessVersion+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("write stamp: %w", err)
	}
	if err := testenv.HoldShared(l.inUseFile()); err != nil {
		return nil, err
	}
	dc := newSambaDC(l, password)
	dc.provisionTime, dc.startTime = t1.Sub(t0), time.Since(t1)
	return dc, nil
}

// Provisioned reports whether the call that returned dc provisioned the
// DC (false: it reused one that was running).
func (dc *DC) Provisioned() bool { return dc.provisionTime != 0 }

// Stop stops the DC whose state is in dir and removes that state (the
// lock files stay so that concurrent callers keep serialising on them). It
// does not wait for processes that use the DC.
func Stop(dir string) error {
	l := sambaLayout{dir: dir}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	unlock, err := testenv.LockFile(l.lockFile())
	if err != nil {
		return err
	}
	defer unlock()
	if err := stopSamba(l); err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read state dir: %w", err)
	}
	for _, e := range entries {
		if e.Name() == "lock" || strings.HasSuffix(e.Name(), ".lock") {
			continue // other processes may hold them
		}
		if err := os.RemoveAll(l.dir + "/" + e.Name()); err != nil {
			return fmt.Errorf("remove state: %w", err)
		}
	}
	sambaMu.Lock()
	delete(sambaByDir, dir)
	sambaMu.Unlock()
	return nil
}

// sambaHealthy returns the admin password when the DC in l was started by
// this harness version and answers an LDAPS bind. A running DC that is slow
// to answer (busy with other test binaries) gets up to 30 seconds.
func sambaHealthy(ctx context.Context, l sambaLayout) (string, error) {
	stamp, err := os.ReadFile(l.stampFile())
	if err != nil || strings.TrimSpace(string(stamp)) != sambaHarnessVersion {
		return "", fmt.Errorf("no stamp of %s", sambaHarnessVersion)
	}
	password, err := readSecret(l.passwordFile())
	if err != nil {
		return "", err
	}
	pid, err := testenv.ReadPidFile(l.pidFile())
	if err != nil || !testenv.ProcessAlive(pid) {
		return "", fmt.Errorf("samba is not running")
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err = testenv.PollUntil(ctx, 200*time.Millisecond, func() error {
		if !testenv.ProcessAlive(pid) {
			return nil // stop polling, fail below
		}
		return checkSambaBind(l, password, 5*time.Second)
	})
	if err != nil {
		return "", err
	}
	if !testenv.ProcessAlive(pid) {
		return "", fmt.Errorf("samba exited")
	}
	return password, nil
}

// sambaTooBig reports a domain partition larger than maxPartitionBytes.
func sambaTooBig(l sambaLayout) bool {
	fi, err := os.Stat(l.domainPartition())
	return err == nil && fi.Size() > maxPartitionBytes
}

// checkSambaBind binds over LDAPS as Administrator, verifying the certificate.
func checkSambaBind(l sambaLayout, password string, timeout time.Duration) error {
	conn, err := testenv.DialAdmin("ldaps://"+sambaLDAPSAddr, l.caFile(), sambaServerName, sambaBindDN, password, timeout)
	if err != nil {
		return err
	}
	return conn.Close()
}

func newSambaDC(l sambaLayout, password string) *DC {
	dc := &DC{
		LDAPSURL:     "ldaps://" + sambaLDAPSAddr,
		StartTLSURL:  "ldap://" + sambaLDAPAddr,
		CAFile:       l.caFile(),
		ServerName:   sambaServerName,
		BindDN:       sambaBindDN,
		PasswordFile: l.passwordFile(),
		Password:     password,
		BaseDN:       sambaBaseDN,
		Dir:          l.dir,
		SamLDB:       l.samLDB(),
		ConfFile:     l.confFile(),
	}
	dc.Admin = testenv.Admin{Do: dc.do}
	return dc
}

package samba

import (
	"os"
	"path/filepath"
)

// Fixed facts about the shared test domain.
const (
	sambaRealm      = "CORP.EXAMPLE.COM"
	sambaDomain     = "CORP"
	sambaHostName   = "dc1"
	sambaServerName = "dc1.corp.example.com"
	sambaBaseDN     = "DC=corp,DC=example,DC=com"
	sambaBindDN     = "Administrator@corp.example.com"
	sambaUPNSuffix  = "corp.example.com"
	sambaLDAPSAddr  = "127.0.0.1:636"
	sambaLDAPAddr   = "127.0.0.1:389"

	// sambaHarnessVersion is written to the stamp file after a successful
	// start. A DC provisioned by another version of this harness is torn
	// down and provisioned again. Bump it whenever provisioning changes.
	sambaHarnessVersion = "adsync-testenv-samba/4"

	// maxPartitionBytes: a bigger domain partition is re-provisioned when
	// no process uses the DC. Samba's adds slow down as the database grows
	// (index records are rewritten on every add), and tombstones of deleted
	// test objects stay for 180 days. 256 MiB is about 20,000 objects.
	maxPartitionBytes = 256 << 20

	defaultSambaDir = "/tmp/adsync-testenv/samba"
	envDir          = "ADSYNC_TESTENV_DIR"
)

// StateDir returns the state directory of the shared DC:
// $ADSYNC_TESTENV_DIR if set, else /tmp/adsync-testenv/samba.
func StateDir() string {
	if d := os.Getenv(envDir); d != "" {
		return d
	}
	return defaultSambaDir
}

// sambaLayout names the files of one DC state directory.
type sambaLayout struct{ dir string }

func (l sambaLayout) lockFile() string     { return filepath.Join(l.dir, "lock") }
func (l sambaLayout) bulkLockFile() string { return filepath.Join(l.dir, "bulk.lock") }
func (l sambaLayout) inUseFile() string    { return filepath.Join(l.dir, "inuse.lock") }
func (l sambaLayout) stampFile() string    { return filepath.Join(l.dir, "stamp") }
func (l sambaLayout) passwordFile() string { return filepath.Join(l.dir, "admin.password") }
func (l sambaLayout) tlsDir() string       { return filepath.Join(l.dir, "tls") }
func (l sambaLayout) domainDir() string    { return filepath.Join(l.dir, "domain") }
func (l sambaLayout) confFile() string     { return filepath.Join(l.domainDir(), "etc", "smb.conf") }
func (l sambaLayout) samLDB() string       { return filepath.Join(l.domainDir(), "private", "sam.ldb") }
func (l sambaLayout) pidDir() string       { return filepath.Join(l.domainDir(), "run") }
func (l sambaLayout) pidFile() string      { return filepath.Join(l.pidDir(), "samba.pid") }
func (l sambaLayout) logDir() string       { return filepath.Join(l.domainDir(), "log") }
func (l sambaLayout) logFile() string      { return filepath.Join(l.logDir(), "samba.log") }
func (l sambaLayout) caFile() string       { return filepath.Join(l.tlsDir(), "ca.pem") }

// domainPartition is the TDB file of the domain partition, which grows
// with every object (tombstones of deleted test objects included).
func (l sambaLayout) domainPartition() string {
	return filepath.Join(l.domainDir(), "private", "sam.ldb.d", "DC=CORP,DC=EXAMPLE,DC=COM.ldb")
}

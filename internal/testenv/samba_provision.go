package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
)

// provisionSamba creates a fresh domain in l.domainDir(), a CA and server
// certificate in l.tlsDir(), the admin password file, and trims smb.conf to
// an LDAP-only DC that uses that certificate. It does not start samba.
func provisionSamba(ctx context.Context, l sambaLayout) (password string, err error) {
	if err := os.RemoveAll(l.domainDir()); err != nil {
		return "", fmt.Errorf("remove old domain: %w", err)
	}
	if err := os.RemoveAll(l.tlsDir()); err != nil {
		return "", fmt.Errorf("remove old tls dir: %w", err)
	}
	password, err = newAdminPassword()
	if err != nil {
		return "", err
	}

	cmd := exec.CommandContext(ctx, "samba-tool", "domain", "provision",
		"--targetdir="+l.domainDir(),
		"--realm="+sambaRealm,
		"--domain="+sambaDomain,
		"--host-name="+sambaHostName,
		"--server-role=dc",
		"--dns-backend=NONE",
		"--use-rfc2307",
		// LMDB rather than the default TDB: only LMDB walks ldb's
		// ordered index, so only with it does Samba answer a delta read's
		// (uSNChanged>=N) from the index, as Active Directory does,
		// instead of testing every object (10,000 users: about 15 ms
		// instead of 110 ms a search).
		"--backend-store=mdb",
		"--adminpass="+password,
		"--option=interfaces=lo",
		"--option=bind interfaces only=yes",
		"--host-ip=127.0.0.1",
	)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("samba-tool domain provision: %w\n%s", err, tail(string(out), 30))
	}

	files, err := WriteTLS(l.tlsDir(),
		[]string{sambaServerName, "localhost"},
		[]net.IP{net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return "", fmt.Errorf("samba tls: %w", err)
	}
	for _, d := range []string{l.pidDir(), l.logDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", fmt.Errorf("create %s: %w", d, err)
		}
	}
	settings := []confSetting{
		// Only the LDAP server: no SMB, RPC, KDC, DNS or replication tasks.
		{"server services", "ldap"},
		{"pid directory", l.pidDir()},
		{"log file", l.logFile()},
		{"logging", "file"},
		{"tls enabled", "yes"},
		{"tls keyfile", files.KeyFile},
		{"tls certfile", files.CertFile},
		{"tls cafile", files.CAFile},
	}
	if err := setGlobalOptions(l.confFile(), settings); err != nil {
		return "", err
	}
	if err := writeSecret(l.passwordFile(), password); err != nil {
		return "", err
	}
	return password, nil
}

// newAdminPassword returns a random password that meets AD's complexity rules
// (upper case, lower case, digit, symbol; longer than 7 characters).
func newAdminPassword() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random password: %w", err)
	}
	return "Ad-" + hex.EncodeToString(b) + "-z9", nil
}

// writeSecret writes a one-line secret file with mode 0600.
func writeSecret(path, secret string) error {
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("chmod %s: %w", path, err)
	}
	return nil
}

// readSecret reads a secret file written by writeSecret.
func readSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read secret: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

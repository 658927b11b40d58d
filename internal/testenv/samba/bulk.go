package samba

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/adsync/adsync/internal/testenv"
)

// bulkChunk is the number of users per ldbadd run (one transaction each).
// Samba rewrites large index records on every add, so one huge transaction
// gets slower per user than several medium ones.
const bulkChunk = 1000

var bulkPrefixRE = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

// BulkAddUsers adds n enabled users under parentDN quickly, by running
// Samba's ldbadd on the live sam.ldb (Samba locks the database for each
// transaction, and the users are visible over LDAP immediately; measured at
// several hundred users per second against about 100-200 per second over
// LDAP, which does not scale with more connections because Samba serialises
// writes).
//
// User i (1-based) has sAMAccountName and CN prefix+%05d, UPN
// <sam>@corp.example.com, givenName "Given<i>", sn "Surname<i>", displayName
// "Bulk User <i>", mail <sam>@example.com. sAMAccountName is unique in the
// whole domain, so prefix must be unique among live users (e.g. from
// t.Name()); prefix is [a-z][a-z0-9-]* and prefix+digits fits in 20 characters.
func (dc *DC) BulkAddUsers(t testing.TB, parentDN string, n int, prefix string) {
	t.Helper()
	if err := dc.bulkAddUsers(parentDN, n, prefix); err != nil {
		t.Fatalf("testenv: bulk add %d users under %s: %v", n, parentDN, err)
	}
}

func (dc *DC) bulkAddUsers(parentDN string, n int, prefix string) error {
	width := max(5, len(strconv.Itoa(n)))
	if !bulkPrefixRE.MatchString(prefix) || len(prefix)+width > 20 {
		return fmt.Errorf("bad prefix %q: want [a-z][a-z0-9-]* and at most %d characters", prefix, 20-width)
	}
	tmp, err := os.MkdirTemp("", "adsync-bulk-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()

	for from := 1; from <= n; from += bulkChunk {
		to := min(n, from+bulkChunk-1)
		path := filepath.Join(tmp, fmt.Sprintf("users-%d.ldif", from))
		if err := writeBulkLDIF(path, parentDN, prefix, width, from, to); err != nil {
			return err
		}
		out, err := exec.CommandContext(ctx, "ldbadd", "--configfile="+dc.ConfFile, "-H", dc.SamLDB, path).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ldbadd users %d-%d: %w\n%s", from, to, err, testenv.Tail(string(out), 10))
		}
	}
	// Check what LDAP clients see, not just what ldbadd reported.
	var got int
	err = dc.withConn(func(c *ldap.Conn) error {
		got, err = countEntries(c, parentDN, fmt.Sprintf("(&(objectClass=user)(sAMAccountName=%s*))", ldap.EscapeFilter(prefix)))
		return err
	})
	if err != nil {
		return err
	}
	if got < n {
		return fmt.Errorf("ldbadd added %d users but LDAP shows %d", n, got)
	}
	return nil
}

func writeBulkLDIF(path, parentDN, prefix string, width, from, to int) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create ldif: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<16)
	for i := from; i <= to; i++ {
		sam := fmt.Sprintf("%s%0*d", prefix, width, i)
		testenv.WriteLDIFAttr(w, "dn", "CN="+sam+","+parentDN)
		testenv.WriteLDIFAttr(w, "objectClass", "user")
		testenv.WriteLDIFAttr(w, "sAMAccountName", sam)
		testenv.WriteLDIFAttr(w, "userPrincipalName", sam+"@"+sambaUPNSuffix)
		testenv.WriteLDIFAttr(w, "userAccountControl", strconv.Itoa(uacNormalAccount))
		testenv.WriteLDIFAttr(w, "givenName", "Given"+strconv.Itoa(i))
		testenv.WriteLDIFAttr(w, "sn", "Surname"+strconv.Itoa(i))
		testenv.WriteLDIFAttr(w, "displayName", "Bulk User "+strconv.Itoa(i))
		testenv.WriteLDIFAttr(w, "mail", sam+"@example.com")
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write ldif: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close ldif: %w", err)
	}
	return nil
}

// countEntries counts the entries below base matching filter (paged).
func countEntries(c *ldap.Conn, base, filter string) (int, error) {
	req := ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		0, 0, false, filter, []string{"1.1"}, nil)
	res, err := c.SearchWithPaging(req, 1000)
	if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("count %s under %s: %w", filter, base, err)
	}
	return len(res.Entries), nil
}

// BulkOU returns the DN of an OU directly under the base DN that holds
// exactly n users made by BulkAddUsers (prefix "b<n>-"), creating it when it
// is missing or incomplete. It survives test runs, so a large fixture is
// paid for once per provisioned DC. Tests must treat it as read-only.
func (dc *DC) BulkOU(t testing.TB, n int) string {
	t.Helper()
	dn := fmt.Sprintf("OU=adsync-bulk-%d,%s", n, dc.BaseDN)
	unlock, err := testenv.LockFile(sambaLayout{dir: dc.Dir}.bulkLockFile())
	if err != nil {
		t.Fatalf("testenv: bulk OU: %v", err)
	}
	defer unlock()

	var got int
	dc.do(t, "count users in "+dn, func(c *ldap.Conn) error {
		got, err = countEntries(c, dn, "(objectClass=user)")
		return err
	})
	if got == n {
		return dn
	}
	start := time.Now()
	dc.do(t, "recreate "+dn, func(c *ldap.Conn) error {
		if err := deleteTree(c, dn); err != nil {
			return err
		}
		req := ldap.NewAddRequest(dn, nil)
		req.Attribute("objectClass", []string{"organizationalUnit"})
		return c.Add(req)
	})
	dc.BulkAddUsers(t, dn, n, fmt.Sprintf("b%d-", n))
	t.Logf("testenv: created %s with %d users in %v", dn, n, time.Since(start).Round(time.Millisecond))
	return dn
}

package samba

import (
	"bufio"
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/adsync/adsync/internal/testenv"
)

// GUID returns the objectGUID of dn in AD's canonical string form, read over
// LDAP and converted by this package.
func (dc *DC) GUID(t testing.TB, dn string) string {
	t.Helper()
	var guid string
	dc.do(t, "read objectGUID of "+dn, func(c *ldap.Conn) error {
		e, err := testenv.ReadEntry(c, dn, "objectGUID")
		if err != nil {
			return err
		}
		guid, err = guidString(e.GetRawAttributeValue("objectGUID"))
		return err
	})
	return guid
}

// GUIDFromLDB returns the objectGUID of dn as Samba's own ldbsearch prints
// it, reading sam.ldb directly (an independent check of GUID).
func (dc *DC) GUIDFromLDB(t testing.TB, dn string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ldbsearch", "--configfile="+dc.ConfFile,
		"-H", dc.SamLDB, "-s", "base", "-b", dn, "(objectClass=*)", "objectGUID").CombinedOutput()
	if err != nil {
		t.Fatalf("testenv: ldbsearch objectGUID of %s: %v\n%s", dn, err, out)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "objectGUID: "); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("testenv: ldbsearch printed no objectGUID for %s:\n%s", dn, out)
	return ""
}

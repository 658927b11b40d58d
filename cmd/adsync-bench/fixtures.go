package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/adsync/adsync/internal/testenv/samba"
	"github.com/adsync/adsync/internal/testenv/slapd"
)

// directory is one directory that the raw read and adsync both read: same
// URL, base, filter and attributes.
type directory struct {
	Label         string // for the report
	Type          string // adsync domain type: ldap or active_directory
	URL           string // what ldapsearch and adsync connect to
	Plaintext     bool   // URL is ldap:// without TLS (adsync: insecure_plaintext)
	CAFile        string
	ServerName    string
	BindDN        string
	Password      string
	PasswordFile  string // for adsync (may end in a newline)
	RawPassFile   string // for ldapsearch -y: exactly the password
	BaseDN        string
	GroupsBaseDN  string   // the jobs' group scope (--groups-base-dn): where the users' groups are
	Filter        string   // adsync's user filter for Type
	Attrs         []string // the attributes adsync requests for Type
	N             int      // users below BaseDN matching Filter
	ServerPIDFile string   // for the CPU time of the directory server ("" = unknown)
	LoadTime      time.Duration
	stop          func() error
}

// The attributes and filters adsync asks for by default (internal/ldapdir:
// mapping.go and config.go). A bench that read less than adsync would
// flatter the raw read.
var (
	ldapAttrs  = []string{"entryUUID", "uid", "mail", "displayName", "givenName", "sn", "memberOf", "cn"}
	ldapFilter = "(objectClass=inetOrgPerson)"
	adAttrs    = []string{"objectGUID", "sAMAccountName", "userPrincipalName", "mail", "displayName", "givenName", "sn",
		"memberOf", "userAccountControl", "accountExpires"}
	adFilter = "(&(objectCategory=person)(objectClass=user))"
)

// startSlapd creates a private slapd in dir loaded offline (slapadd) with n
// inetOrgPerson users (entryUUIDs in no order with -ids random, in groups
// with -groups) and starts it
// as a child of this process.
func startSlapd(dir string, n int, o *options) (*directory, error) {
	t0 := time.Now()
	plaintext := o.plaintext
	opts := []slapd.Option{slapd.WithUsers(n), slapd.WithGroups(o.groups)}
	if o.randomIDs {
		opts = append(opts, slapd.WithRandomIDs())
	}
	if o.shuffled {
		opts = append(opts, slapd.WithShuffledNames())
	}
	s, err := slapd.New(dir, opts...)
	if err != nil {
		return nil, fmt.Errorf("slapd with %d users: %w", n, err)
	}
	load := time.Since(t0)
	if err := s.StartE(); err != nil {
		return nil, fmt.Errorf("start slapd: %w", err)
	}
	d := &directory{
		Label: "OpenLDAP slapd", Type: "ldap", URL: s.LDAPSURL, Plaintext: plaintext, CAFile: s.CAFile,
		ServerName: s.ServerName, BindDN: s.BindDN, Password: s.Password, PasswordFile: s.PasswordFile,
		BaseDN: s.UsersDN, GroupsBaseDN: s.UsersDN, Filter: ldapFilter, Attrs: ldapAttrs, N: n,
		ServerPIDFile: filepath.Join(s.Dir, "slapd.pid"), LoadTime: load, stop: s.StopE,
	}
	if plaintext {
		d.URL = s.LDAPURL
	}
	if o.groups > 0 {
		d.GroupsBaseDN = s.GroupsDN
	}
	d.RawPassFile = filepath.Join(dir, "raw.password")
	if err := os.WriteFile(d.RawPassFile, []byte(d.Password), 0o600); err != nil {
		return nil, err
	}
	return d, nil
}

// serverPID returns the directory server's pid, or 0.
func (d *directory) serverPID() int {
	if d.ServerPIDFile == "" {
		return 0
	}
	b, err := os.ReadFile(d.ServerPIDFile)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// Samba (delta figures).

const (
	benchOUPrefix   = "adsync-bench-"
	benchSAMPrefix  = "bench-"
	sambaTimeout    = 45 * time.Minute
	sambaDialTimout = 30 * time.Second
)

// sambaDirectory returns the shared Samba AD DC with a dedicated OU holding
// exactly n users, creating or completing it when needed (minutes: Samba
// adds a few hundred users per second). Its stop removes what it made,
// unless keep: the DC if it provisioned it, else the OU if it created it.
func sambaDirectory(ctx context.Context, scratch string, n int, keep bool, logf func(string, ...any)) (*directory, error) {
	ctx, cancel := context.WithTimeout(ctx, sambaTimeout)
	defer cancel()
	t0 := time.Now()
	dc, err := samba.Ensure(ctx, samba.StateDir())
	if err != nil {
		return nil, fmt.Errorf("samba AD DC: %w", err)
	}
	logf("samba AD DC ready in %s (state %s)", since(t0), dc.Dir)
	ou := fmt.Sprintf("OU=%s%d,%s", benchOUPrefix, n, dc.BaseDN)
	conn, err := dialLDAPS(dc.LDAPSURL, dc.CAFile, dc.ServerName, dc.BindDN, dc.Password)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	have, err := countUsers(conn, ou)
	if err != nil {
		return nil, err
	}
	var load time.Duration
	created := false
	// cleanUp removes what this call made (see above); also when it fails
	// half-way.
	cleanUp := func() error {
		switch {
		case keep:
			logf("samba: keeping the DC and %s for the next bench (-keep-samba)", ou)
			return nil
		case dc.Provisioned():
			logf("samba: removing the DC this bench provisioned")
			return samba.Stop(samba.StateDir())
		case created:
			logf("samba: removing %s (the DC was running before the bench: it stays)", ou)
			c, err := dialLDAPS(dc.LDAPSURL, dc.CAFile, dc.ServerName, dc.BindDN, dc.Password)
			if err != nil {
				return err
			}
			defer c.Close()
			return deleteTree(c, ou)
		}
		logf("samba: leaving %s, which an earlier bench kept", ou)
		return nil
	}
	if have != n {
		logf("samba: %s holds %d users, want %d: (re)creating it with BulkAddUsers (several minutes)", ou, have, n)
		t1 := time.Now()
		if err := deleteTree(conn, ou); err != nil {
			return nil, err
		}
		add := ldap.NewAddRequest(ou, nil)
		add.Attribute("objectClass", []string{"organizationalUnit"})
		if err := conn.Add(add); err != nil {
			return nil, fmt.Errorf("add %s: %w", ou, err)
		}
		created = true
		if err := bulkAdd(dc, ou, n, benchSAMPrefix); err != nil {
			if cerr := cleanUp(); cerr != nil {
				logf("samba: clean-up after the failure: %v", cerr)
			}
			return nil, err
		}
		load = time.Since(t1)
		logf("samba: added %d users to %s in %s", n, ou, since(t1))
	} else {
		logf("samba: reusing %s (%d users)", ou, n)
	}
	d := &directory{
		Label: "Samba AD DC", Type: "active_directory", URL: dc.LDAPSURL, CAFile: dc.CAFile, ServerName: dc.ServerName,
		BindDN: dc.BindDN, Password: dc.Password, PasswordFile: dc.PasswordFile, BaseDN: ou, GroupsBaseDN: ou, Filter: adFilter,
		Attrs: adAttrs, N: n, ServerPIDFile: filepath.Join(dc.Dir, "domain", "run", "samba.pid"), LoadTime: load,
		stop: cleanUp,
	}
	d.RawPassFile = filepath.Join(scratch, "samba-raw.password")
	if err := os.WriteFile(d.RawPassFile, []byte(d.Password), 0o600); err != nil {
		return nil, err
	}
	return d, nil
}

// changeUsers gives k users of the bench OU a new displayName (user i for
// i = 1, 1+step, ...), the "1% changed" of the delta figures. It returns
// how many entries it modified.
func changeUsers(d *directory, k int, tag string) (int, error) {
	conn, err := dialLDAPS(d.URL, d.CAFile, d.ServerName, d.BindDN, d.Password)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	step := max(1, d.N/k)
	width := max(5, len(strconv.Itoa(d.N)))
	done := 0
	for i := 1; i <= d.N && done < k; i += step {
		sam := fmt.Sprintf("%s%0*d", benchSAMPrefix, width, i)
		req := ldap.NewModifyRequest("CN="+sam+","+d.BaseDN, nil)
		req.Replace("displayName", []string{fmt.Sprintf("Bulk User %d (%s)", i, tag)})
		if err := conn.Modify(req); err != nil {
			return done, fmt.Errorf("modify %s: %w", sam, err)
		}
		done++
	}
	return done, nil
}

func dialLDAPS(url, caFile, serverName, bindDN, password string) (*ldap.Conn, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("read CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no certificate in %s", caFile)
	}
	c, err := ldap.DialURL(url, ldap.DialWithDialer(&net.Dialer{Timeout: sambaDialTimout}),
		ldap.DialWithTLSConfig(&tls.Config{RootCAs: pool, ServerName: serverName, MinVersion: tls.VersionTLS12}))
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", url, err)
	}
	c.SetTimeout(5 * time.Minute)
	if err := c.Bind(bindDN, password); err != nil {
		c.Close()
		return nil, fmt.Errorf("bind %s as %s: %w", url, bindDN, err)
	}
	return c, nil
}

func countUsers(c *ldap.Conn, base string) (int, error) {
	req := ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=user)", []string{"1.1"}, nil)
	res, err := c.SearchWithPaging(req, 1000)
	if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("count users under %s: %w", base, err)
	}
	return len(res.Entries), nil
}

func deleteTree(c *ldap.Conn, dn string) error {
	err := c.Del(ldap.NewDelRequest(dn, []ldap.Control{ldap.NewControlSubtreeDelete()}))
	if err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
		return fmt.Errorf("delete %s: %w", dn, err)
	}
	return nil
}

// bulkAdd calls testenv's BulkAddUsers, which takes a testing.TB, from a
// command: its Fatalf becomes an error.
func bulkAdd(dc *samba.DC, parentDN string, n int, prefix string) (err error) {
	tb := &cmdTB{}
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(tbFatal)
			if !ok {
				panic(r)
			}
			err = f.err
		}
	}()
	dc.BulkAddUsers(tb, parentDN, n, prefix)
	return nil
}

// cmdTB is the part of testing.TB that testenv's helpers use, for a
// command. Any other method panics (nil embedded interface).
type cmdTB struct{ testing.TB }

type tbFatal struct{ err error }

func (*cmdTB) Helper()                           {}
func (*cmdTB) Name() string                      { return "adsync-bench" }
func (*cmdTB) Logf(format string, args ...any)   { logf(format, args...) }
func (*cmdTB) Log(args ...any)                   { logf("%s", fmt.Sprint(args...)) }
func (*cmdTB) Fatalf(format string, args ...any) { panic(tbFatal{fmt.Errorf(format, args...)}) }
func (*cmdTB) Fatal(args ...any)                 { panic(tbFatal{fmt.Errorf("%s", fmt.Sprint(args...))}) }
func (*cmdTB) Errorf(format string, args ...any) { panic(tbFatal{fmt.Errorf(format, args...)}) }
func (*cmdTB) Error(args ...any)                 { panic(tbFatal{fmt.Errorf("%s", fmt.Sprint(args...))}) }
func (*cmdTB) Cleanup(func())                    {}
func (*cmdTB) Failed() bool                      { return false }

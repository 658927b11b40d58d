package slapd

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/adsync/adsync/internal/testenv"
)

// slapdConf renders slapd.conf for s.
func slapdConf(s *Server, tls testenv.TLSFiles, passwordHash string) string {
	var b strings.Builder
	for _, schema := range []string{"core", "cosine", "nis", "inetorgperson"} {
		fmt.Fprintf(&b, "include /etc/ldap/schema/%s.schema\n", schema)
	}
	fmt.Fprintf(&b, `modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
pidfile %[1]s/slapd.pid
argsfile %[1]s/slapd.args
TLSCACertificateFile %[2]s
TLSCertificateFile %[3]s
TLSCertificateKeyFile %[4]s
sizelimit unlimited

database mdb
# mdb maps the database file; reserve room for millions of entries.
maxsize 68719476736
suffix "%[5]s"
rootdn "%[6]s"
rootpw %[7]s
directory %[1]s/data
sizelimit unlimited
index objectClass,uid,entryUUID eq
overlay memberof
# Group members follow a member that is moved or renamed, as refint does.
memberof-refint TRUE
`, s.Dir, tls.CAFile, tls.CertFile, tls.KeyFile, s.BaseDN, s.BindDN, passwordHash)
	if s.ReaderDN != "" {
		fmt.Fprintf(&b, "limits dn.exact=%q %s\n", s.ReaderDN, s.readerLimits)
	}
	return b.String()
}

// sshaHash returns password in slapd's {SSHA} form, so that the plain
// password is not stored in slapd.conf.
func sshaHash(password string) (string, error) {
	salt := make([]byte, 8)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	sum := sha1.Sum(append([]byte(password), salt...))
	return "{SSHA}" + base64.StdEncoding.EncodeToString(append(sum[:], salt...)), nil
}

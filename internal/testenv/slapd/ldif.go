package slapd

import (
	"bufio"
	"fmt"
	"io"
	"strconv"

	"github.com/go-ldap/ldap/v3"

	"github.com/adsync/adsync/internal/testenv"
)

// WriteBaseLDIF writes the skeleton of a test directory: the suffix entry
// baseDN (a dcObject/organization; baseDN must start with dc=), ou=people
// and ou=groups below it.
func WriteBaseLDIF(w io.Writer, baseDN string) error {
	parsed, err := ldap.ParseDN(baseDN)
	if err != nil || len(parsed.RDNs) == 0 || len(parsed.RDNs[0].Attributes) != 1 ||
		!equalFold(parsed.RDNs[0].Attributes[0].Type, "dc") {
		return fmt.Errorf("base DN %q must start with dc=", baseDN)
	}
	dc := parsed.RDNs[0].Attributes[0].Value
	bw := bufio.NewWriter(w)
	testenv.WriteLDIFAttr(bw, "dn", baseDN)
	for _, oc := range []string{"top", "dcObject", "organization"} {
		testenv.WriteLDIFAttr(bw, "objectClass", oc)
	}
	testenv.WriteLDIFAttr(bw, "dc", dc)
	testenv.WriteLDIFAttr(bw, "o", dc)
	bw.WriteByte('\n')
	for _, ou := range []string{"people", "groups"} {
		testenv.WriteLDIFAttr(bw, "dn", "ou="+ou+","+baseDN)
		testenv.WriteLDIFAttr(bw, "objectClass", "top")
		testenv.WriteLDIFAttr(bw, "objectClass", "organizationalUnit")
		testenv.WriteLDIFAttr(bw, "ou", ou)
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write base ldif: %w", err)
	}
	return nil
}

// WriteUsersLDIF streams n inetOrgPerson entries under ou=people,<baseDN>
// to w, one at a time (constant memory, fine for millions of users). User i
// (1-based) is uid=user%07d with cn "User <i>", givenName "Given<i>", sn
// "Surname<i>", displayName "Display User <i>" and mail <uid>@example.org.
// It writes no skeleton entries: see WriteBaseLDIF. With randomIDs each
// user also gets an entryUUID that looks random (testenv.RandomUUID(i)), as Active
// Directory's objectGUIDs are; without, slapadd gives time-based ones,
// nearly in order.
func WriteUsersLDIF(w io.Writer, baseDN string, n int, randomIDs bool) error {
	width := max(7, len(strconv.Itoa(n)))
	bw := bufio.NewWriterSize(w, 1<<16)
	people := "ou=people," + baseDN
	for i := 1; i <= n; i++ {
		uid := fmt.Sprintf("user%0*d", width, i)
		num := strconv.Itoa(i)
		testenv.WriteLDIFAttr(bw, "dn", "uid="+uid+","+people)
		bw.WriteString("objectClass: top\nobjectClass: person\nobjectClass: organizationalPerson\nobjectClass: inetOrgPerson\n")
		testenv.WriteLDIFAttr(bw, "uid", uid)
		testenv.WriteLDIFAttr(bw, "cn", "User "+num)
		testenv.WriteLDIFAttr(bw, "givenName", "Given"+num)
		testenv.WriteLDIFAttr(bw, "sn", "Surname"+num)
		testenv.WriteLDIFAttr(bw, "displayName", "Display User "+num)
		testenv.WriteLDIFAttr(bw, "mail", uid+"@example.org")
		if randomIDs {
			testenv.WriteLDIFAttr(bw, "entryUUID", testenv.RandomUUID(i))
		}
		if err := bw.WriteByte('\n'); err != nil {
			return fmt.Errorf("write users ldif: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write users ldif: %w", err)
	}
	return nil
}

func equalFold(a, b string) bool {
	return len(a) == len(b) && (a == b || foldASCII(a) == foldASCII(b))
}

func foldASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

package testenv

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
	"strconv"

	"github.com/go-ldap/ldap/v3"
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
	writeLDIFAttr(bw, "dn", baseDN)
	for _, oc := range []string{"top", "dcObject", "organization"} {
		writeLDIFAttr(bw, "objectClass", oc)
	}
	writeLDIFAttr(bw, "dc", dc)
	writeLDIFAttr(bw, "o", dc)
	bw.WriteByte('\n')
	for _, ou := range []string{"people", "groups"} {
		writeLDIFAttr(bw, "dn", "ou="+ou+","+baseDN)
		writeLDIFAttr(bw, "objectClass", "top")
		writeLDIFAttr(bw, "objectClass", "organizationalUnit")
		writeLDIFAttr(bw, "ou", ou)
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
// user also gets an entryUUID that looks random (RandomUUID(i)), as Active
// Directory's objectGUIDs are; without, slapadd gives time-based ones,
// nearly in order.
func WriteUsersLDIF(w io.Writer, baseDN string, n int, randomIDs bool) error {
	width := max(7, len(strconv.Itoa(n)))
	bw := bufio.NewWriterSize(w, 1<<16)
	people := "ou=people," + baseDN
	for i := 1; i <= n; i++ {
		uid := fmt.Sprintf("user%0*d", width, i)
		num := strconv.Itoa(i)
		writeLDIFAttr(bw, "dn", "uid="+uid+","+people)
		bw.WriteString("objectClass: top\nobjectClass: person\nobjectClass: organizationalPerson\nobjectClass: inetOrgPerson\n")
		writeLDIFAttr(bw, "uid", uid)
		writeLDIFAttr(bw, "cn", "User "+num)
		writeLDIFAttr(bw, "givenName", "Given"+num)
		writeLDIFAttr(bw, "sn", "Surname"+num)
		writeLDIFAttr(bw, "displayName", "Display User "+num)
		writeLDIFAttr(bw, "mail", uid+"@example.org")
		if randomIDs {
			writeLDIFAttr(bw, "entryUUID", RandomUUID(i))
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

// RandomUUID returns a version 4 UUID derived from i: the same for the
// same i, in no order from one i to the next.
func RandomUUID(i int) string {
	h := sha256.Sum256([]byte("adsync-user-" + strconv.Itoa(i)))
	h[6] = h[6]&0x0f | 0x40 // version 4
	h[8] = h[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// OrderedUUID returns a UUID derived from i that grows with i, as the
// time-based entryUUIDs of entries slapadd loads together nearly do.
func OrderedUUID(i int) string { return fmt.Sprintf("5f0c%04x-1d2e-4a3b-9c8d-%012x", i%65536, i) }

// IDOrders are the two ways directories hand out ids, for benchmarks that
// run both: ordered (OpenLDAP's entryUUIDs), random (Active Directory's
// objectGUIDs).
var IDOrders = []struct {
	Name string
	ID   func(i int) string
}{{"ids=ordered", OrderedUUID}, {"ids=random", RandomUUID}}

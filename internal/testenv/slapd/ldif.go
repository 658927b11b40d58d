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
//
// With shuffleNames the users are written (and so handed out by slapd's
// paged search) in an order unrelated to their names, as Active Directory
// hands out users created over the years: user i comes at a place given
// by a fixed stride through 1…n (NameOrder).
//
// With groupsPerUser k > 0, user i is also a member of the k groups
// group-(i mod G) … group-(i+k-1 mod G) of G = min(100, n) groupOfNames
// under ou=groups (k at most G), written after the users with their
// member lists, and has them in memberOf (slapadd runs no overlay: both
// sides are written).
func WriteUsersLDIF(w io.Writer, baseDN string, n int, randomIDs, shuffleNames bool, groupsPerUser int) error {
	width := max(7, len(strconv.Itoa(n)))
	bw := bufio.NewWriterSize(w, 1<<16)
	people := "ou=people," + baseDN
	g := groupSet{n: n, total: min(100, n), base: "ou=groups," + baseDN}
	g.k = min(groupsPerUser, g.total)
	userDN := func(i int) string { return "uid=" + fmt.Sprintf("user%0*d", width, i) + "," + people }
	order := func(k int) int { return k }
	if shuffleNames {
		order = NameOrder(n)
	}
	for k := 1; k <= n; k++ {
		i := order(k)
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
		for j := range g.k {
			testenv.WriteLDIFAttr(bw, "memberOf", g.dn((i+j)%g.total))
		}
		if err := bw.WriteByte('\n'); err != nil {
			return fmt.Errorf("write users ldif: %w", err)
		}
	}
	for grp := range g.total {
		if g.k == 0 {
			break
		}
		testenv.WriteLDIFAttr(bw, "dn", g.dn(grp))
		bw.WriteString("objectClass: top\nobjectClass: groupOfNames\n")
		testenv.WriteLDIFAttr(bw, "cn", g.name(grp))
		g.members(grp, func(i int) { testenv.WriteLDIFAttr(bw, "member", userDN(i)) })
		if err := bw.WriteByte('\n'); err != nil {
			return fmt.Errorf("write groups ldif: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write users ldif: %w", err)
	}
	return nil
}

// NameOrder returns which user (1…n) comes k-th (1…n) when names are
// shuffled: a stride through 1…n coprime with n, so that each user comes
// once and neighbours by name come about n/2.6 apart.
func NameOrder(n int) func(k int) int {
	stride := max(1, n*10/26)
	for gcd(stride, n) != 1 {
		stride++
	}
	return func(k int) int { return (k-1)*stride%n + 1 }
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// groupSet is WriteUsersLDIF's groups: user i is in groups i … i+k-1
// (mod total).
type groupSet struct {
	n, k, total int
	base        string
}

func (g groupSet) name(grp int) string { return fmt.Sprintf("group-%03d", grp) }
func (g groupSet) dn(grp int) string   { return "cn=" + g.name(grp) + "," + g.base }

// members calls fn with each user of group grp: the users i with i mod
// total in grp-k+1 … grp (with total at most n, at least one).
func (g groupSet) members(grp int, fn func(i int)) {
	for d := range g.k {
		r := ((grp-d)%g.total + g.total) % g.total
		for i := r; i <= g.n; i += g.total {
			if i >= 1 {
				fn(i)
			}
		}
	}
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

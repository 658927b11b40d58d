package ldapwire

import (
	"bufio"
	"bytes"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

// BenchmarkParseEntry decodes a user entry as the bench's slapd read
// returns it: the attributes adsync asks for, three groups.
func BenchmarkParseEntry(b *testing.B) {
	e := &ldap.Entry{DN: "uid=user0000001,ou=people,dc=bench,dc=example",
		Attributes: []*ldap.EntryAttribute{
			attr("entryUUID", "0ed00870-4d81-4f3b-8db3-da22f32d0557"), attr("uid", "user0000001"),
			attr("mail", "user0000001@bench.example"), attr("displayName", "User 0000001"),
			attr("givenName", "User"), attr("sn", "0000001"),
			attr("memberOf", "cn=group001,ou=groups,dc=bench,dc=example", "cn=group017,ou=groups,dc=bench,dc=example",
				"cn=all,ou=groups,dc=bench,dc=example"),
			attr("cn", "User 0000001")}}
	body, err := ReadMessage(bufio.NewReader(bytes.NewReader(envelope(3, entryOp(e)))))
	if err != nil {
		b.Fatal(err)
	}
	m, err := ParseMessage(body)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseEntry(m.Body); err != nil {
			b.Fatal(err)
		}
	}
}

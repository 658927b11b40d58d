package ldapdir

import (
	"bufio"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/adsync/adsync/internal/ldapwire"
)

// A server that shuts down sends a notice of disconnection (message id 0)
// instead of the page: the read fails as a lost connection, whatever the
// notice's result code, and says what the server said.
func TestWireNoticeOfDisconnectionIsALostConnection(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	go func() {
		defer server.Close()
		if _, err := ldapwire.ReadMessage(bufio.NewReader(server)); err != nil { // the search request
			return
		}
		notice := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationExtendedResponse, nil, "Notice")
		notice.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, uint64(ldap.LDAPResultUnavailable), "Result Code"))
		notice.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", "Matched DN"))
		notice.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "shutting down", "Diagnostic"))
		msg := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAP Response")
		msg.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 0, "MessageID"))
		msg.AppendChild(notice)
		_, _ = server.Write(msg.Bytes())
	}()
	w := &wireConn{nc: client, r: bufio.NewReader(client), timeout: 5 * time.Second}
	req := ldap.NewSearchRequest("dc=example,dc=org", ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"uid"}, []ldap.Control{&pagingControl{size: 10}})
	_, err := w.searchPage(req, func(*ldap.Entry) error { return nil })
	if !errors.Is(err, ErrConnectionLost) || !IsTransient(err) {
		t.Fatalf("err %v: want a transient lost connection", err)
	}
	var le *ldap.Error
	if errors.As(err, &le) {
		t.Fatalf("err %v carries the notice's result code as an LDAP error", err)
	}
	if !strings.Contains(err.Error(), "LDAP 52) shutting down") {
		t.Fatalf("err %q does not say what the server said", err)
	}
}

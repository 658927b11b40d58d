package ldapwire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// The encoders below build responses with go-ldap's BER package, as a
// server would send them, so that the decoder is checked against an
// independent implementation of the same encoding.

func envelope(id int64, op *ber.Packet, controls ...*ber.Packet) []byte {
	p := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAP Response")
	p.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, "MessageID"))
	p.AppendChild(op)
	if len(controls) > 0 {
		cs := ber.Encode(ber.ClassContext, ber.TypeConstructed, 0, nil, "Controls")
		for _, c := range controls {
			cs.AppendChild(c)
		}
		p.AppendChild(cs)
	}
	return p.Bytes()
}

func entryOp(e *ldap.Entry) *ber.Packet {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationSearchResultEntry, nil, "Entry")
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, e.DN, "DN"))
	attrs := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "Attributes")
	for _, a := range e.Attributes {
		ap := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "Attribute")
		ap.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, a.Name, "Type"))
		vals := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSet, nil, "Values")
		for _, v := range a.ByteValues {
			vals.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, string(v), "Value"))
		}
		ap.AppendChild(vals)
		attrs.AppendChild(ap)
	}
	op.AppendChild(attrs)
	return op
}

func doneOp(code uint16, matched, diag string) *ber.Packet {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationSearchResultDone, nil, "Done")
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, uint64(code), "Result Code"))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, matched, "Matched DN"))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, diag, "Diagnostic"))
	return op
}

func attr(name string, vals ...string) *ldap.EntryAttribute {
	a := &ldap.EntryAttribute{Name: name, Values: []string{}, ByteValues: [][]byte{}}
	for _, v := range vals {
		a.Values = append(a.Values, v)
		a.ByteValues = append(a.ByteValues, []byte(v))
	}
	return a
}

func TestWireDecodesWhatGoLDAPEncodes(t *testing.T) {
	long := string(bytes.Repeat([]byte("x"), 70000)) // a three-octet length
	guid := string([]byte{0x70, 0x08, 0xd0, 0x0e, 0x81, 0x4d, 0x3b, 0x4f, 0x8d, 0xb3, 0xda, 0x22, 0xf3, 0x2d, 0x05, 0x57})
	tests := []struct {
		name  string
		entry *ldap.Entry
	}{
		{"plain", &ldap.Entry{DN: "uid=alice,ou=people,dc=example,dc=com",
			Attributes: []*ldap.EntryAttribute{attr("uid", "alice"), attr("mail", "alice@example.com")}}},
		{"escaped DN, non-ASCII, binary GUID", &ldap.Entry{DN: `CN=Smith\, John,OU=Zoë,DC=corp,DC=example,DC=com`,
			Attributes: []*ldap.EntryAttribute{attr("objectGUID", guid), attr("displayName", "Zoë Ångström")}}},
		{"many values, ranged name, empty value", &ldap.Entry{DN: "cn=x",
			Attributes: []*ldap.EntryAttribute{attr("memberOf;range=0-2", "cn=a", "cn=b", "cn=c"), attr("description", "")}}},
		{"no attributes", &ldap.Entry{DN: "cn=empty"}},
		{"long value", &ldap.Entry{DN: "cn=long", Attributes: []*ldap.EntryAttribute{attr("description", long)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wire := envelope(7, entryOp(tt.entry))
			b, err := ReadMessage(bufio.NewReader(bytes.NewReader(wire)))
			if err != nil {
				t.Fatal(err)
			}
			m, err := ParseMessage(b)
			if err != nil || m.ID != 7 || m.Op != OpSearchEntry || m.Controls != nil {
				t.Fatalf("message %+v, %v", m, err)
			}
			got, err := ParseEntry(m.Body)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.entry) {
				t.Fatalf("decoded %+v, want %+v", got, tt.entry)
			}
		})
	}
}

func TestWireResultsAndPagingCookie(t *testing.T) {
	paging := func(cookie string) *ber.Packet {
		return pagingControl(1000, cookie)
	}
	other := ldap.NewControlManageDsaIT(false).Encode()
	tests := []struct {
		name       string
		wire       []byte
		wantCode   uint16
		wantCookie string
		wantFound  bool
	}{
		{"next page", envelope(3, doneOp(0, "", ""), other, paging("cookie-1")), 0, "cookie-1", true},
		{"last page", envelope(3, doneOp(0, "", ""), paging("")), 0, "", true},
		{"no paging control", envelope(3, doneOp(0, "", "")), 0, "", false},
		{"size limit", envelope(3, doneOp(ldap.LDAPResultSizeLimitExceeded, "", "too many")), ldap.LDAPResultSizeLimitExceeded, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := ReadMessage(bufio.NewReader(bytes.NewReader(tt.wire)))
			if err != nil {
				t.Fatal(err)
			}
			m, err := ParseMessage(b)
			if err != nil || m.Op != OpSearchDone {
				t.Fatalf("message %+v, %v", m, err)
			}
			r, err := ParseResult(m.Body)
			if err != nil || r.Code != tt.wantCode {
				t.Fatalf("result %+v, %v", r, err)
			}
			if tt.wantCode != 0 && !ldap.IsErrorWithCode(r.Err(), tt.wantCode) {
				t.Fatalf("err %v is not LDAP code %d", r.Err(), tt.wantCode)
			}
			cookie, found, err := PagingCookie(m.Controls)
			if err != nil || found != tt.wantFound || string(cookie) != tt.wantCookie {
				t.Fatalf("cookie %q found %v err %v", cookie, found, err)
			}
		})
	}
}

func TestWireRefusesMalformedResponses(t *testing.T) {
	good := envelope(1, entryOp(&ldap.Entry{DN: "cn=a", Attributes: []*ldap.EntryAttribute{attr("uid", "a")}}))
	tests := []struct {
		name string
		wire []byte
		want error
	}{
		{"not a sequence", []byte{0x04, 0x00}, ErrMalformed},
		{"indefinite length", []byte{0x30, 0x80, 0x00, 0x00}, ErrMalformed},
		{"length over the limit", []byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff}, ErrMalformed},
		{"truncated", good[:len(good)-3], io.ErrUnexpectedEOF},
		{"inner length past the end", []byte{0x30, 0x05, 0x02, 0x01, 0x01, 0x64, 0x7f}, ErrMalformed},
		{"multi-octet tag", []byte{0x30, 0x04, 0x1f, 0x01, 0x01, 0x00}, ErrMalformed},
		{"string where the id should be", []byte{0x30, 0x03, 0x04, 0x01, 0x01}, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := decodeAll(tt.wire)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// decodeAll runs every decoder on one message, as searchPage would.
func decodeAll(wire []byte) error {
	b, err := ReadMessage(bufio.NewReader(bytes.NewReader(wire)))
	if err != nil {
		return err
	}
	m, err := ParseMessage(b)
	if err != nil {
		return err
	}
	switch m.Op {
	case OpSearchEntry:
		_, err = ParseEntry(m.Body)
	case OpSearchDone, OpBindResponse, OpExtendedResponse:
		if _, err = ParseResult(m.Body); err == nil {
			_, _, err = PagingCookie(m.Controls)
		}
	default:
		err = Malformed("op 0x%02x", m.Op)
	}
	return err
}

// FuzzWireDecode: no input makes the decoder panic or read out of bounds,
// and an entry it accepts is the entry go-ldap's decoder sees in it.
func FuzzWireDecode(f *testing.F) {
	f.Add(envelope(1, entryOp(&ldap.Entry{DN: "cn=a", Attributes: []*ldap.EntryAttribute{attr("uid", "a", "b")}})))
	f.Add(envelope(2, doneOp(0, "", ""), pagingControl(5, "c")))
	f.Add(envelope(0, doneOp(ldap.LDAPResultUnavailable, "", "shutting down")))
	f.Fuzz(func(t *testing.T, wire []byte) {
		if decodeAll(wire) != nil {
			return
		}
		b, _ := ReadMessage(bufio.NewReader(bytes.NewReader(wire)))
		m, _ := ParseMessage(b)
		if m.Op != OpSearchEntry {
			return
		}
		got, _ := ParseEntry(m.Body)
		p, err := ber.DecodePacketErr(wire)
		if err != nil || len(p.Children) < 2 || len(p.Children[1].Children) < 2 {
			return // go-ldap's decoder is stricter in places (e.g. tag classes): not a disagreement about content
		}
		op := p.Children[1]
		if dn, ok := op.Children[0].Value.(string); ok && dn != got.DN {
			t.Fatalf("DN %q, go-ldap %q", got.DN, dn)
		}
		if n := len(op.Children[1].Children); n != len(got.Attributes) {
			t.Fatalf("%d attributes, go-ldap %d", len(got.Attributes), n)
		}
	})
}

// pagingControl is the simple paged results control (RFC 2696) as go-ldap
// encodes it.
func pagingControl(size uint32, cookie string) *ber.Packet {
	c := ldap.NewControlPaging(size)
	c.SetCookie([]byte(cookie))
	return c.Encode()
}

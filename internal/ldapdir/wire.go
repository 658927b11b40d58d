package ldapdir

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/go-ldap/ldap/v3"
)

// The decoder of the LDAP messages a paged user search returns (RFC 4511
// section 4.1.1, BER as restricted by section 5.1: definite lengths,
// one-octet tags). go-ldap's generic decoder (go-asn1-ber) builds a tree of
// packets and copies every element's contents into each of its ancestors;
// on a 100,000-user read it was about two thirds of the directory-reader's
// CPU and the floor of the whole sync (see README, Performance). This one
// reads a message into one buffer and slices it: an entry costs the buffer,
// one string copy of it, and its attribute slices. Requests are still
// encoded with go-ldap's BER package, and results are go-ldap's types
// (*ldap.Entry, *ldap.Error), so the rest of ldapdir does not change.

// BER identifiers of what the decoder reads.
const (
	berInteger     = 0x02
	berOctetString = 0x04
	berBoolean     = 0x01
	berEnumerated  = 0x0a
	berSequence    = 0x30
	berSet         = 0x31
	berControls    = 0xa0 // [0] of LDAPMessage

	opBindResponse     = 0x61 // [APPLICATION 1]
	opSearchEntry      = 0x64 // [APPLICATION 4]
	opSearchDone       = 0x65 // [APPLICATION 5]
	opSearchReference  = 0x73 // [APPLICATION 19]
	opExtendedResponse = 0x78 // [APPLICATION 24]
)

// maxMessageSize bounds one LDAP message: an entry with very many values
// (a group's member list) can be large, but a length beyond this is a
// broken or hostile stream, not an entry.
const maxMessageSize = 256 << 20

// errMalformed marks a response that is not valid LDAP BER.
var errMalformed = errors.New("malformed LDAP response")

func malformed(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errMalformed, fmt.Sprintf(format, a...))
}

// message is one decoded LDAPMessage envelope.
type message struct {
	id       int64
	op       byte   // the protocolOp's identifier octet
	body     []byte // the protocolOp's contents
	controls []byte // the contents of [0] Controls; nil without
}

// readMessage reads one LDAPMessage from r and returns the contents of its
// outer SEQUENCE in a buffer of its own.
func readMessage(r *bufio.Reader) ([]byte, error) {
	id, err := r.ReadByte()
	if err != nil {
		return nil, err
	}
	if id != berSequence {
		return nil, malformed("message starts with identifier 0x%02x, not a SEQUENCE", id)
	}
	first, err := r.ReadByte()
	if err != nil {
		return nil, unexpectedEOF(err)
	}
	n := int(first)
	if first >= 0x80 {
		k := int(first & 0x7f)
		if k == 0 || k > 4 {
			return nil, malformed("message length of %d octets", k)
		}
		n = 0
		for range k {
			b, err := r.ReadByte()
			if err != nil {
				return nil, unexpectedEOF(err)
			}
			n = n<<8 | int(b)
		}
	}
	if n > maxMessageSize {
		return nil, malformed("message of %d bytes (more than %d)", n, maxMessageSize)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, unexpectedEOF(err)
	}
	return buf, nil
}

func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// parseMessage splits the contents of an LDAPMessage SEQUENCE.
func parseMessage(b []byte) (message, error) {
	var m message
	v, rest, err := expect(b, berInteger, "message id")
	if err != nil {
		return m, err
	}
	if m.id, err = integer(v); err != nil {
		return m, err
	}
	if m.op, m.body, rest, err = element(rest); err != nil {
		return m, err
	}
	if len(rest) > 0 {
		id, v, _, err := element(rest)
		if err != nil {
			return m, err
		}
		if id == berControls {
			m.controls = v
		}
		// Anything after the controls is ignored (RFC 4511 section 4.1.1).
	}
	return m, nil
}

// element reads one BER element from b: its identifier, contents, and what
// follows it in b.
func element(b []byte) (id byte, contents, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, malformed("truncated element")
	}
	id = b[0]
	if id&0x1f == 0x1f {
		return 0, nil, nil, malformed("multi-octet identifier 0x%02x", id)
	}
	n, size := int(b[1]), 1
	if n >= 0x80 {
		k := n & 0x7f
		if k == 0 || k > 4 {
			return 0, nil, nil, malformed("length of %d octets", k)
		}
		if len(b) < 2+k {
			return 0, nil, nil, malformed("truncated length")
		}
		n = 0
		for _, c := range b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		size += k
	}
	start := 1 + size
	if n > len(b)-start {
		return 0, nil, nil, malformed("element of %d bytes in %d", n, len(b)-start)
	}
	// Contents keep their capacity up to the end of b: parseEntry uses it
	// to find their offset.
	return id, b[start : start+n], b[start+n:], nil
}

// expect reads one element with identifier want.
func expect(b []byte, want byte, what string) (contents, rest []byte, err error) {
	id, contents, rest, err := element(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", what, err)
	}
	if id != want {
		return nil, nil, malformed("%s has identifier 0x%02x, want 0x%02x", what, id, want)
	}
	return contents, rest, nil
}

// integer decodes a BER INTEGER or ENUMERATED of at most 8 octets.
func integer(v []byte) (int64, error) {
	if len(v) == 0 || len(v) > 8 {
		return 0, malformed("integer of %d octets", len(v))
	}
	n := int64(int8(v[0])) // sign-extended
	for _, c := range v[1:] {
		n = n<<8 | int64(c)
	}
	return n, nil
}

// parseEntry decodes a SearchResultEntry. The entry's strings share one
// copy of body, and its ByteValues are slices of body itself, which the
// caller must not change afterwards. A first pass counts the attributes and
// values, so that the entry takes five allocations whatever its size (the
// attributes, their pointers, the values twice, and the copy of body)
// instead of a few per attribute.
func parseEntry(body []byte) (*ldap.Entry, error) {
	dn, rest, err := expect(body, berOctetString, "entry name")
	if err != nil {
		return nil, err
	}
	attrs, _, err := expect(rest, berSequence, "entry attributes")
	if err != nil {
		return nil, err
	}
	nAttrs, nVals, err := countAttributes(attrs)
	if err != nil {
		return nil, err
	}
	s := string(body)
	str := func(v []byte) string { // v is a slice of body
		off := cap(body) - cap(v)
		return s[off : off+len(v)]
	}
	e := &ldap.Entry{DN: str(dn)}
	if nAttrs == 0 {
		return e, nil
	}
	eas := make([]ldap.EntryAttribute, nAttrs)
	e.Attributes = make([]*ldap.EntryAttribute, nAttrs)
	values, byteValues := make([]string, nVals), make([][]byte, nVals)
	for i := range eas {
		a, next, _ := expect(attrs, berSequence, "attribute") // checked by countAttributes
		attrs = next
		typ, rest, _ := expect(a, berOctetString, "attribute type")
		vals, _, _ := expect(rest, berSet, "attribute values")
		ea := &eas[i]
		ea.Name = str(typ)
		n := 0
		for ; len(vals) > 0; n++ {
			v, next, _ := expect(vals, berOctetString, "attribute value")
			vals = next
			values[n], byteValues[n] = str(v), v[:len(v):len(v)]
		}
		ea.Values, ea.ByteValues = values[:n:n], byteValues[:n:n]
		values, byteValues = values[n:], byteValues[n:]
		e.Attributes[i] = ea
	}
	return e, nil
}

// countAttributes checks the PartialAttributeList of an entry and counts
// its attributes and their values.
func countAttributes(attrs []byte) (nAttrs, nVals int, err error) {
	for len(attrs) > 0 {
		var a []byte
		if a, attrs, err = expect(attrs, berSequence, "attribute"); err != nil {
			return 0, 0, err
		}
		_, rest, err := expect(a, berOctetString, "attribute type")
		if err != nil {
			return 0, 0, err
		}
		vals, _, err := expect(rest, berSet, "attribute values")
		if err != nil {
			return 0, 0, err
		}
		for len(vals) > 0 {
			if _, vals, err = expect(vals, berOctetString, "attribute value"); err != nil {
				return 0, 0, err
			}
			nVals++
		}
		nAttrs++
	}
	return nAttrs, nVals, nil
}

// result is an LDAPResult (the body of SearchResultDone, BindResponse...).
type result struct {
	code       uint16
	matchedDN  string
	diagnostic string
}

// err returns nil for success, else the result as go-ldap's *ldap.Error,
// so that ldap.IsErrorWithCode and describeLDAP work on it.
func (r result) err() error {
	if r.code == ldap.LDAPResultSuccess {
		return nil
	}
	return &ldap.Error{ResultCode: r.code, MatchedDN: r.matchedDN, Err: errors.New(r.diagnostic)}
}

func parseResult(body []byte) (result, error) {
	v, rest, err := expect(body, berEnumerated, "result code")
	if err != nil {
		return result{}, err
	}
	code, err := integer(v)
	if err != nil || code < 0 || code > 0xffff {
		return result{}, malformed("result code %d", code)
	}
	matched, rest, err := expect(rest, berOctetString, "matched DN")
	if err != nil {
		return result{}, err
	}
	diag, _, err := expect(rest, berOctetString, "diagnostic message")
	if err != nil {
		return result{}, err
	}
	return result{code: uint16(code), matchedDN: string(matched), diagnostic: string(diag)}, nil
}

// pagingCookie finds the simple paged results control (RFC 2696) among the
// controls of a SearchResultDone and returns its cookie (empty: last page).
func pagingCookie(controls []byte) (cookie []byte, found bool, err error) {
	for len(controls) > 0 {
		var ctl []byte
		if ctl, controls, err = expect(controls, berSequence, "control"); err != nil {
			return nil, false, err
		}
		typ, rest, err := expect(ctl, berOctetString, "control type")
		if err != nil {
			return nil, false, err
		}
		if string(typ) != ldap.ControlTypePaging {
			continue
		}
		var value []byte
		for len(rest) > 0 {
			var id byte
			var v []byte
			if id, v, rest, err = element(rest); err != nil {
				return nil, false, fmt.Errorf("paging control: %w", err)
			}
			if id == berOctetString {
				value = v
			}
		}
		seq, _, err := expect(value, berSequence, "paging control value")
		if err != nil {
			return nil, false, err
		}
		_, rest, err = expect(seq, berInteger, "paging size")
		if err != nil {
			return nil, false, err
		}
		c, _, err := expect(rest, berOctetString, "paging cookie")
		if err != nil {
			return nil, false, err
		}
		return append([]byte(nil), c...), true, nil
	}
	return nil, false, nil
}

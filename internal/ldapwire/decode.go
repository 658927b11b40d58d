package ldapwire

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/go-ldap/ldap/v3"
)

// BER identifiers of what the decoder reads.
const (
	berInteger     = 0x02
	berOctetString = 0x04
	berBoolean     = 0x01
	berEnumerated  = 0x0a
	berSequence    = 0x30
	berSet         = 0x31
	berControls    = 0xa0 // [0] of LDAPMessage

	OpBindResponse     = 0x61 // [APPLICATION 1]
	OpSearchEntry      = 0x64 // [APPLICATION 4]
	OpSearchDone       = 0x65 // [APPLICATION 5]
	OpSearchReference  = 0x73 // [APPLICATION 19]
	OpExtendedResponse = 0x78 // [APPLICATION 24]
)

// maxMessageSize bounds one LDAP message: an entry with very many values
// (a group's member list) can be large, but a length beyond this is a
// broken or hostile stream, not an entry.
const maxMessageSize = 256 << 20

// ErrMalformed marks a response that is not valid LDAP BER.
var ErrMalformed = errors.New("malformed LDAP response")

// Malformed is an ErrMalformed saying what was wrong.
func Malformed(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, a...))
}

// Message is one decoded LDAPMessage envelope.
type Message struct {
	ID       int64
	Op       byte   // the protocolOp's identifier octet
	Body     []byte // the protocolOp's contents
	Controls []byte // the contents of [0] Controls; nil without
}

// ReadMessage reads one LDAPMessage from r and returns the contents of its
// outer SEQUENCE in a buffer of its own.
func ReadMessage(r *bufio.Reader) ([]byte, error) {
	id, err := r.ReadByte()
	if err != nil {
		return nil, err
	}
	if id != berSequence {
		return nil, Malformed("message starts with identifier 0x%02x, not a SEQUENCE", id)
	}
	first, err := r.ReadByte()
	if err != nil {
		return nil, unexpectedEOF(err)
	}
	n := int(first)
	if first >= 0x80 {
		k := int(first & 0x7f)
		if k == 0 || k > 4 {
			return nil, Malformed("message length of %d octets", k)
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
		return nil, Malformed("message of %d bytes (more than %d)", n, maxMessageSize)
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

// ParseMessage splits the contents of an LDAPMessage SEQUENCE.
func ParseMessage(b []byte) (Message, error) {
	var m Message
	v, rest, err := expect(b, berInteger, "message id")
	if err != nil {
		return m, err
	}
	if m.ID, err = integer(v); err != nil {
		return m, err
	}
	if m.Op, m.Body, rest, err = element(rest); err != nil {
		return m, err
	}
	if len(rest) > 0 {
		id, v, _, err := element(rest)
		if err != nil {
			return m, err
		}
		if id == berControls {
			m.Controls = v
		}
		// Anything after the controls is ignored (RFC 4511 section 4.1.1).
	}
	return m, nil
}

// element reads one BER element from b: its identifier, contents, and what
// follows it in b.
func element(b []byte) (id byte, contents, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, Malformed("truncated element")
	}
	id = b[0]
	if id&0x1f == 0x1f {
		return 0, nil, nil, Malformed("multi-octet identifier 0x%02x", id)
	}
	n, size := int(b[1]), 1
	if n >= 0x80 {
		k := n & 0x7f
		if k == 0 || k > 4 {
			return 0, nil, nil, Malformed("length of %d octets", k)
		}
		if len(b) < 2+k {
			return 0, nil, nil, Malformed("truncated length")
		}
		n = 0
		for _, c := range b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		size += k
	}
	start := 1 + size
	if n > len(b)-start {
		return 0, nil, nil, Malformed("element of %d bytes in %d", n, len(b)-start)
	}
	// Contents keep their capacity up to the end of b: ParseEntry uses it
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
		return nil, nil, Malformed("%s has identifier 0x%02x, want 0x%02x", what, id, want)
	}
	return contents, rest, nil
}

// integer decodes a BER INTEGER or ENUMERATED of at most 8 octets.
func integer(v []byte) (int64, error) {
	if len(v) == 0 || len(v) > 8 {
		return 0, Malformed("integer of %d octets", len(v))
	}
	n := int64(int8(v[0])) // sign-extended
	for _, c := range v[1:] {
		n = n<<8 | int64(c)
	}
	return n, nil
}

// ParseEntry decodes a SearchResultEntry. The entry's strings share one
// copy of body, and its ByteValues are slices of body itself, which the
// caller must not change afterwards. A first pass counts the attributes and
// values, so that the entry takes five allocations whatever its size (the
// attributes, their pointers, the values twice, and the copy of body)
// instead of a few per attribute.
func ParseEntry(body []byte) (*ldap.Entry, error) {
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

// Result is an LDAPResult (the body of SearchResultDone, BindResponse...).
type Result struct {
	Code       uint16
	MatchedDN  string
	Diagnostic string
}

// Err returns nil for success, else the result as go-ldap's *ldap.Error,
// so that ldap.IsErrorWithCode works on it.
func (r Result) Err() error {
	if r.Code == ldap.LDAPResultSuccess {
		return nil
	}
	return &ldap.Error{ResultCode: r.Code, MatchedDN: r.MatchedDN, Err: errors.New(r.Diagnostic)}
}

func ParseResult(body []byte) (Result, error) {
	v, rest, err := expect(body, berEnumerated, "result code")
	if err != nil {
		return Result{}, err
	}
	code, err := integer(v)
	if err != nil || code < 0 || code > 0xffff {
		return Result{}, Malformed("result code %d", code)
	}
	matched, rest, err := expect(rest, berOctetString, "matched DN")
	if err != nil {
		return Result{}, err
	}
	diag, _, err := expect(rest, berOctetString, "diagnostic message")
	if err != nil {
		return Result{}, err
	}
	return Result{Code: uint16(code), MatchedDN: string(matched), Diagnostic: string(diag)}, nil
}

// PagingCookie finds the simple paged results control (RFC 2696) among the
// controls of a SearchResultDone and returns its cookie (empty: last page).
func PagingCookie(controls []byte) (cookie []byte, found bool, err error) {
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

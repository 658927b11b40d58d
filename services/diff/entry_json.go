package diff

import (
	"encoding/binary"
	"unicode/utf8"

	"github.com/adsync/adsync/events"
)

// appendEntryJSON appends e's JSON form to dst, byte for byte what
// encoding/json's Marshal writes (and github.com/segmentio/encoding/json's,
// which wrote the stored hashes): fields in order, omitempty as tagged,
// strings escaped as encodeString does (HTML characters, U+2028 and
// U+2029, invalid UTF-8 as \ufffd). Hash runs it on every entry of every
// read; the generic encoder cost twice as much, with an allocation or
// three an entry. TestAppendEntryJSONIsMarshal and FuzzAppendEntryJSON
// hold it to Marshal.
func appendEntryJSON(dst []byte, e *events.DirectoryEntry) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendJSONString(dst, e.ID)
	dst = append(dst, `,"dn":`...)
	dst = appendJSONString(dst, e.DN)
	dst = append(dst, `,"username":`...)
	dst = appendJSONString(dst, e.Username)
	for _, f := range [...]struct{ key, v string }{
		{`,"upn":`, e.UPN}, {`,"email":`, e.Email}, {`,"display_name":`, e.DisplayName},
		{`,"given_name":`, e.GivenName}, {`,"surname":`, e.Surname},
	} {
		if f.v != "" {
			dst = append(dst, f.key...)
			dst = appendJSONString(dst, f.v)
		}
	}
	if len(e.Groups) > 0 {
		dst = append(dst, `,"groups":[`...)
		for i, g := range e.Groups {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, g)
		}
		dst = append(dst, ']')
	}
	if len(e.GroupRefs) > 0 {
		dst = append(dst, `,"group_refs":[`...)
		for i, g := range e.GroupRefs {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"id":`...)
			dst = appendJSONString(dst, g.ID)
			dst = append(dst, `,"name":`...)
			dst = appendJSONString(dst, g.Name)
			dst = append(dst, `,"dn":`...)
			dst = appendJSONString(dst, g.DN)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	if e.Disabled {
		dst = append(dst, `,"disabled":true`...)
	}
	if e.DisabledReason != "" {
		dst = append(dst, `,"disabled_reason":`...)
		dst = appendJSONString(dst, e.DisabledReason)
	}
	return append(dst, '}')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, escaped as encoding/json
// does with HTML escaping on.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		// Eight bytes at a time while none needs a look (plain ASCII).
		for i+8 <= len(s) && plain8(binary.LittleEndian.Uint64([]byte(s[i:i+8]))) {
			i += 8
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '\\' && c != '"' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '\\', '"':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default: // other control characters, and <, >, &
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// plain8 reports whether none of the eight bytes of x is escaped or starts
// a multi-byte character: each is printable ASCII other than ", \, <, >
// and &. (v-ones) & ^v & highs is non-zero exactly when a byte of v is
// zero, and (x-0x20*ones) & ^x & highs when a byte of x is below 0x20.
func plain8(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	hasZero := func(v uint64) uint64 { return (v - ones) & ^v & highs }
	if x&highs != 0 {
		return false
	}
	below := (x - 0x20*ones) & ^x & highs // a byte below 0x20
	return below|hasZero(x^('"'*ones))|hasZero(x^('\\'*ones))|hasZero(x^('<'*ones))|hasZero(x^('>'*ones))|hasZero(x^('&'*ones)) == 0
}

package testenv

import (
	"bufio"
	"encoding/base64"
	"unicode/utf8"
)

// WriteLDIFAttr writes one "name: value" line, base64-encoding the value
// ("name:: ...") when RFC 2849 does not allow it as a plain SAFE-STRING.
func WriteLDIFAttr(w *bufio.Writer, name, value string) {
	w.WriteString(name)
	if ldifSafe(value) {
		w.WriteString(": ")
		w.WriteString(value)
	} else {
		w.WriteString(":: ")
		w.WriteString(base64.StdEncoding.EncodeToString([]byte(value)))
	}
	w.WriteByte('\n')
}

func ldifSafe(s string) bool {
	if s == "" {
		return true
	}
	if !utf8.ValidString(s) {
		return false
	}
	switch s[0] {
	case ' ', ':', '<':
		return false
	}
	if s[len(s)-1] == ' ' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == 0 || c == '\n' || c == '\r' || c > 0x7f {
			return false
		}
	}
	return true
}

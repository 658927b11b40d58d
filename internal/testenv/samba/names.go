package samba

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
)

// uniqueName turns a test name into a short string of [A-Za-z0-9-] with a
// random suffix, safe in any DN, filter or file name.
func uniqueName(testName string, maxLen int) string {
	var b strings.Builder
	dash := false
	for _, r := range testName {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		switch {
		case ok:
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	base := strings.Trim(b.String(), "-")
	if len(base) > maxLen {
		base = strings.TrimRight(base[:maxLen], "-")
	}
	if base == "" {
		base = "t"
	}
	return base + "-" + randomHex(4)
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error()) // never happens on Linux
	}
	return hex.EncodeToString(b)
}

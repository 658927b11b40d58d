package samba

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// guidString formats a 16-byte AD objectGUID in AD's canonical form: the
// first three groups are stored little-endian (Python's
// uuid.UUID(bytes_le=raw)). testenv keeps its own copy so that tests can
// cross-check the production conversion against it and against ldbsearch.
func guidString(raw []byte) (string, error) {
	if len(raw) != 16 {
		return "", fmt.Errorf("objectGUID has %d bytes, want 16", len(raw))
	}
	b := []byte{
		raw[3], raw[2], raw[1], raw[0],
		raw[5], raw[4],
		raw[7], raw[6],
	}
	b = append(b, raw[8:]...)
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32], nil
}

// guidFilterValue is the LDAP filter value (every byte escaped) of the
// objectGUID whose canonical form is s.
func guidFilterValue(s string) (string, error) {
	h, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(h) != 16 {
		return "", fmt.Errorf("%q is not a GUID", s)
	}
	raw := []byte{h[3], h[2], h[1], h[0], h[5], h[4], h[7], h[6]}
	raw = append(raw, h[8:]...)
	var b strings.Builder
	for _, c := range raw {
		fmt.Fprintf(&b, "\\%02x", c)
	}
	return b.String(), nil
}

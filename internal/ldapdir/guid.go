package ldapdir

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// GUIDString formats a 16-byte AD objectGUID the way AD prints it: the first
// three groups are stored little-endian, i.e. Python's
// uuid.UUID(bytes_le=raw). Base64 cAjQDoFNO0+Ns9oi8y0FVw== is
// 0ed00870-4d81-4f3b-8db3-da22f32d0557.
func GUIDString(raw []byte) (string, error) {
	if len(raw) != 16 {
		return "", fmt.Errorf("objectGUID has %d bytes, want 16", len(raw))
	}
	b := make([]byte, 16)
	copy(b, raw)
	reverse(b[0:4])
	reverse(b[4:6])
	reverse(b[6:8])
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

// GUIDFilterValue turns a canonical GUID string into the escaped byte form
// for an (objectGUID=...) filter, e.g. `\70\08\d0\0e\81\4d...`.
func GUIDFilterValue(guid string) (string, error) {
	raw, err := guidBytes(guid)
	if err != nil {
		return "", err
	}
	var sb strings.Builder
	for _, c := range raw {
		fmt.Fprintf(&sb, `\%02x`, c)
	}
	return sb.String(), nil
}

// guidBytes parses a canonical GUID string into AD's 16-byte wire order.
func guidBytes(guid string) ([]byte, error) {
	s := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(guid), "{"), "}")
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return nil, fmt.Errorf("GUID %q: want xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", guid)
	}
	// The five groups of hex digits, between the four hyphens: 32 digits,
	// 16 bytes, or an error (a hyphen elsewhere is not a hex digit).
	raw, err := hex.DecodeString(s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36])
	if err != nil || len(raw) != 16 {
		return nil, fmt.Errorf("GUID %q: want xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx of hex digits", guid)
	}
	reverse(raw[0:4])
	reverse(raw[4:6])
	reverse(raw[6:8])
	return raw, nil
}

func reverse(b []byte) {
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
}

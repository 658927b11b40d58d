package testenv

import (
	"encoding/hex"
	"fmt"
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

package testenv

import (
	"crypto/sha256"
	"fmt"
	"strconv"
)

// RandomUUID returns a version 4 UUID derived from i: the same for the
// same i, in no order from one i to the next.
func RandomUUID(i int) string {
	h := sha256.Sum256([]byte("adsync-user-" + strconv.Itoa(i)))
	h[6] = h[6]&0x0f | 0x40 // version 4
	h[8] = h[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// OrderedUUID returns a UUID derived from i that grows with i, as the
// time-based entryUUIDs of entries slapadd loads together nearly do.
func OrderedUUID(i int) string { return fmt.Sprintf("5f0c%04x-1d2e-4a3b-9c8d-%012x", i%65536, i) }

// IDOrders are the two ways directories hand out ids, for benchmarks that
// run both: ordered (OpenLDAP's entryUUIDs), random (Active Directory's
// objectGUIDs).
var IDOrders = []struct {
	Name string
	ID   func(i int) string
}{{"ids=ordered", OrderedUUID}, {"ids=random", RandomUUID}}

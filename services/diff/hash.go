package diff

import (
	"crypto/sha256"
	"encoding/binary"

	"github.com/adsync/adsync/events"
)

// hashFormat starts every hashed encoding; a new format gets a new value,
// so that no two formats can produce the same bytes.
const hashFormat = 2

// appendCanonical appends the canonical encoding of a normalised entry:
// its fields in a fixed order, each string its length (uvarint) and then
// its bytes, each list its length and then its items, Disabled one byte.
// Nothing is escaped or omitted, so two entries have the same encoding
// exactly when their fields are equal.
func appendCanonical(dst []byte, e *events.DirectoryEntry) []byte {
	str := func(s string) {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	dst = append(dst, hashFormat)
	for _, s := range [...]string{e.ID, e.DN, e.Username, e.UPN, e.Email, e.DisplayName, e.GivenName, e.Surname} {
		str(s)
	}
	dst = binary.AppendUvarint(dst, uint64(len(e.Groups)))
	for _, g := range e.Groups {
		str(g)
	}
	dst = binary.AppendUvarint(dst, uint64(len(e.GroupRefs)))
	for _, g := range e.GroupRefs {
		str(g.ID)
		str(g.Name)
		str(g.DN)
	}
	if e.Disabled {
		dst = append(dst, 1)
	} else {
		dst = append(dst, 0)
	}
	str(e.DisabledReason)
	return dst
}

// hashPage returns the content hash of each of a page's normalised
// entries: the first 16 bytes of the SHA-256 of its canonical encoding.
// The hashes share one buffer.
func hashPage(entries []events.DirectoryEntry) [][]byte {
	hashes := make([][]byte, len(entries))
	sums := make([]byte, 16*len(entries))
	var buf []byte
	for i := range entries {
		buf = appendCanonical(buf[:0], &entries[i])
		sum := sha256.Sum256(buf)
		hashes[i] = sums[16*i : 16*i+16 : 16*i+16]
		copy(hashes[i], sum[:16])
	}
	return hashes
}

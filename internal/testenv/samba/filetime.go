package samba

import (
	"strconv"
	"time"
)

// fileTimeEpochOffset is the number of seconds from 1601-01-01 to 1970-01-01.
const fileTimeEpochOffset = 11644473600

// fileTime formats t as an AD "Interval" (100-ns ticks since 1601-01-01 UTC),
// the syntax of accountExpires; the zero time means never (0x7FFFFFFFFFFFFFFF).
func fileTime(t time.Time) string {
	if t.IsZero() {
		return "9223372036854775807"
	}
	ticks := (t.Unix()+fileTimeEpochOffset)*10_000_000 + int64(t.Nanosecond())/100
	return strconv.FormatInt(ticks, 10)
}

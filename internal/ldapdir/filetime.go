package ldapdir

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// fileTimeEpochOffset is the number of seconds from 1601-01-01 to 1970-01-01.
const fileTimeEpochOffset = 11644473600

// accountExpiry parses AD's accountExpires (100-ns ticks since 1601-01-01
// UTC). never is true for 0 and 0x7FFFFFFFFFFFFFFF (and a missing value).
func accountExpiry(v string) (t time.Time, never bool, err error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, true, nil
	}
	ticks, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("accountExpires %q: %w", v, err)
	}
	if ticks <= 0 || ticks == math.MaxInt64 {
		return time.Time{}, true, nil
	}
	secs := ticks/10_000_000 - fileTimeEpochOffset
	nanos := (ticks % 10_000_000) * 100
	return time.Unix(secs, nanos).UTC(), false, nil
}

// fileTime formats t as AD's FILETIME (100-ns ticks since 1601-01-01 UTC).
func fileTime(t time.Time) int64 {
	return (t.Unix()+fileTimeEpochOffset)*10_000_000 + int64(t.Nanosecond())/100
}

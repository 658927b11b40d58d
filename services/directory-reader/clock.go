package directoryreader

import (
	"time"

	"github.com/adsync/adsync/internal/ldapdir"
)

// withClock gives a domain the reader's clock unless it has its own: whether
// an account has expired (accountExpires) and the delta watermarks are then
// judged by the same clock as the rest of the run.
func withClock(d ldapdir.Config, now func() time.Time) ldapdir.Config {
	if d.Now == nil {
		d.Now = now
	}
	return d
}

package ldapdir

import (
	"strconv"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/adsync/adsync/events"
)

func TestAccountExpiry(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Time
		never   bool
		wantErr bool
	}{
		{in: "", never: true},
		{in: "0", never: true},
		{in: "9223372036854775807", never: true},
		{in: "126227808000000000", want: time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)},
		{in: "116444736000000001", want: time.Unix(0, 100).UTC()},
		{in: "soon", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, never, err := accountExpiry(tt.in)
			if (err != nil) != tt.wantErr || never != tt.never || !got.Equal(tt.want) {
				t.Fatalf("accountExpiry(%q) = %v, %t, %v; want %v, %t, error %t", tt.in, got, never, err, tt.want, tt.never, tt.wantErr)
			}
		})
	}
}

func TestFileTimeRoundTrip(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 29, 18, 30, 15, 123456700, time.UTC),
		time.Unix(0, 100).UTC(),
	} {
		t.Run(tm.Format(time.RFC3339Nano), func(t *testing.T) {
			got, never, err := accountExpiry(strconv.FormatInt(fileTime(tm), 10))
			if err != nil || never || !got.Equal(tm) {
				t.Fatalf("accountExpiry(fileTime(%v)) = %v, %t, %v", tm, got, never, err)
			}
		})
	}
}

// A delta read of Active Directory also selects the users whose
// accountExpires passed since the watermark was taken (expiry does not
// change uSNChanged), unless the watermark knows that none did: then, and
// for a generic LDAP read, only what changed. When it looks, it selects
// every user expiring from then on, to learn the next expiry.
func TestChangedSinceSelectsExpiredAccounts(t *testing.T) {
	taken := time.Date(2026, 11, 29, 18, 0, 0, 0, time.UTC)
	full := taken.Add(-time.Hour)
	now := taken.Add(10 * time.Minute)
	uSN := "(uSNChanged>=101)"
	since := func(from time.Time) string {
		return "(|" + uSN + "(&(accountExpires>=" + strconv.FormatInt(fileTime(from), 10) +
			")(!(accountExpires=0))(!(accountExpires=9223372036854775807))))"
	}
	usn := func(mod func(*events.Watermark)) events.Watermark {
		w := events.Watermark{Kind: events.WatermarkUSN, USN: 100, TakenAt: taken, FullAt: full}
		mod(&w)
		return w
	}
	tests := []struct {
		name      string
		w         events.Watermark
		now       time.Time
		want      string
		wantKnown bool
		wantAhead time.Time // what the read carries forward of the watermark's NextExpiry
	}{
		{"next expiry not known (an older adsync's watermark)", usn(func(*events.Watermark) {}), now, since(taken), true, time.Time{}},
		{"without TakenAt, from the last full read", usn(func(w *events.Watermark) { w.TakenAt = time.Time{} }), now, since(full), true, time.Time{}},
		{"next expiry passed", usn(func(w *events.Watermark) { w.ExpiriesKnown, w.NextExpiry = true, now.Add(-time.Minute) }), now, since(taken), true, time.Time{}},
		{"next expiry now", usn(func(w *events.Watermark) { w.ExpiriesKnown, w.NextExpiry = true, now }), now, since(taken), true, time.Time{}},
		{"next expiry ahead", usn(func(w *events.Watermark) { w.ExpiriesKnown, w.NextExpiry = true, now.Add(time.Second) }), now, uSN, true, now.Add(time.Second)},
		{"no user expires", usn(func(w *events.Watermark) { w.ExpiriesKnown = true }), now, uSN, true, time.Time{}},
		{"clock behind the watermark", usn(func(*events.Watermark) {}), taken.Add(-time.Second), uSN, false, time.Time{}},
		{"generic LDAP", events.Watermark{Kind: events.WatermarkTimestamp, Timestamp: taken, TakenAt: taken}, now, "(modifyTimestamp>=20261129180000Z)", true, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Conn
			c.ChangedSince(tt.w)
			x := c.expiry.at(tt.now)
			if got := c.changedFilter(x); got != tt.want {
				t.Fatalf("filter %s\nwant   %s", got, tt.want)
			}
			if _, err := ldap.CompileFilter(c.changedFilter(x)); err != nil {
				t.Fatalf("not a valid filter: %v", err)
			}
			if known, ahead := x.knows(); known != tt.wantKnown || !ahead.Equal(tt.wantAhead) {
				t.Fatalf("knows the next expiry: %t, %v; want %t, %v", known, ahead, tt.wantKnown, tt.wantAhead)
			}
		})
	}
	var full0 Conn
	if got := full0.changedFilter(full0.expiry.at(now)); got != "" {
		t.Fatalf("a full read has a delta clause %s", got)
	}
}

package directoryreader

import "testing"

// TestPagesFitTheServersMaxPayload: a directory.page event stays within
// three quarters of the NATS server's max_payload (room for headers and
// for the changes event diff derives from it), and at 2 MiB on servers
// that allow more.
func TestPagesFitTheServersMaxPayload(t *testing.T) {
	for _, tt := range []struct {
		name       string
		maxPayload int64
		want       int
	}{
		{"unknown: NATS' default 1 MB", 0, 768 << 10},
		{"NATS' default 1 MB", 1 << 20, 768 << 10},
		{"deploy/nats' 8 MB", 8 << 20, 2 << 20},
		{"a small limit", 64 << 10, 48 << 10},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := BytesPerEvent(tt.maxPayload); got != tt.want {
				t.Fatalf("BytesPerEvent(%d) = %d, want %d", tt.maxPayload, got, tt.want)
			}
		})
	}
}

package ldapdir

import (
	"testing"
	"time"
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

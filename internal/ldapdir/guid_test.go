package ldapdir

import (
	"encoding/base64"
	"testing"
)

func TestGUIDString(t *testing.T) {
	tests := []struct {
		name    string
		b64     string
		want    string
		wantErr bool
	}{
		{name: "AD example", b64: "cAjQDoFNO0+Ns9oi8y0FVw==", want: "0ed00870-4d81-4f3b-8db3-da22f32d0557"},
		{name: "zero", b64: "AAAAAAAAAAAAAAAAAAAAAA==", want: "00000000-0000-0000-0000-000000000000"},
		{name: "too short", b64: "AAAA", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := base64.StdEncoding.DecodeString(tt.b64)
			if err != nil {
				t.Fatal(err)
			}
			got, err := GUIDString(raw)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("GUIDString = %q, %v; want %q (error %t)", got, err, tt.want, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			back, err := guidBytes(got)
			if err != nil || string(back) != string(raw) {
				t.Fatalf("round trip: %x, %v; want %x", back, err, raw)
			}
		})
	}
}

func TestGUIDFilterValue(t *testing.T) {
	tests := []struct {
		guid, want string
		wantErr    bool
	}{
		{guid: "0ed00870-4d81-4f3b-8db3-da22f32d0557", want: `\70\08\d0\0e\81\4d\3b\4f\8d\b3\da\22\f3\2d\05\57`},
		{guid: "{0ED00870-4D81-4F3B-8DB3-DA22F32D0557}", want: `\70\08\d0\0e\81\4d\3b\4f\8d\b3\da\22\f3\2d\05\57`},
		{guid: "0ed00870-4d81-4f3b-8db3-da22f32d055", wantErr: true},
		{guid: "0ed00870-4d81-4f3b-8db3-da22f32d055z", wantErr: true},
		{guid: "*)(objectClass=*", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.guid, func(t *testing.T) {
			got, err := GUIDFilterValue(tt.guid)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("GUIDFilterValue = %q, %v; want %q (error %t)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

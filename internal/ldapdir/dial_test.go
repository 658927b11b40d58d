package ldapdir

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/testenv"
	"github.com/adsync/adsync/internal/testenv/samba"
)

func TestDialActiveDirectory(t *testing.T) {
	dc := samba.Start(t)
	otherCA, err := testenv.WriteTLS(filepath.Join(t.TempDir(), "other"), []string{"dc1.corp.example.com"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	const wrongPassword = "Wr0ng-Secret-Value!"

	tests := []struct {
		name      string
		mutate    func(c *Config)
		wantErr   []string // substrings of the error; nil = success
		transient bool
	}{
		{name: "ldaps with the right CA", mutate: func(c *Config) {}},
		{name: "StartTLS with the right CA", mutate: func(c *Config) { c.URL = dc.StartTLSURL }},
		{name: "tls_server_name override", mutate: func(c *Config) { c.TLSServerName = dc.ServerName }},
		{name: "tls_server_name that the certificate lacks", mutate: func(c *Config) { c.TLSServerName = "wrong.example.com" },
			wantErr: []string{`domain "corp": connect ldaps://127.0.0.1:636: tls:`, "wrong.example.com", "check tls_server_name"}},
		{name: "wrong CA over ldaps", mutate: func(c *Config) { c.CAFile = otherCA.CAFile },
			wantErr: []string{`domain "corp": connect ldaps://127.0.0.1:636: tls: certificate signed by unknown authority (check ca_file ` + otherCA.CAFile + `)`}},
		{name: "wrong CA over StartTLS", mutate: func(c *Config) { c.URL = dc.StartTLSURL; c.CAFile = otherCA.CAFile },
			wantErr: []string{`domain "corp": connect ldap://127.0.0.1:389: tls: certificate signed by unknown authority (check ca_file`}},
		{name: "system roots do not know the test CA", mutate: func(c *Config) { c.CAFile = "" },
			wantErr: []string{"certificate signed by unknown authority (the system roots do not trust it: set ca_file)"}},
		{name: "plaintext bind refused by Samba", mutate: func(c *Config) { c.URL = dc.StartTLSURL; c.InsecurePlaintext = true },
			wantErr: []string{`domain "corp": bind as Administrator@corp.example.com: strong auth required (LDAP 8)`,
				"Transport encryption required", "use ldaps://, or ldap:// with StartTLS"}},
		{name: "wrong password", mutate: func(c *Config) { c.BindPassword = wrongPassword },
			wantErr: []string{`domain "corp": bind as Administrator@corp.example.com: invalid credentials (LDAP 49)`}},
		{name: "unknown user", mutate: func(c *Config) { c.BindDN = "nobody@corp.example.com" },
			wantErr: []string{`bind as nobody@corp.example.com: invalid credentials (LDAP 49)`}},
		{name: "unreachable port", mutate: func(c *Config) { c.URL = "ldaps://" + freeClosedPort(t) },
			wantErr: []string{"connect ldaps://127.0.0.1:", "connection refused"}, transient: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := adConfig(dc, dc.BaseDN)
			tt.mutate(&cfg)
			c, err := Dial(context.Background(), cfg)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Dial: %v", err)
				}
				defer c.Close()
				state, ok := c.l.TLSConnectionState()
				if !ok || !state.HandshakeComplete || state.Version < tls.VersionTLS12 {
					t.Fatalf("not on TLS 1.2+: %+v", state)
				}
				return
			}
			if err == nil {
				c.Close()
				t.Fatal("Dial succeeded")
			}
			t.Logf("error: %v", err)
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q\nwant it to contain %q", err, want)
				}
			}
			for _, secret := range []string{dc.Password, wrongPassword} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error contains a password: %v", err)
				}
			}
			if got := IsTransient(err); got != tt.transient {
				t.Errorf("IsTransient = %t, want %t", got, tt.transient)
			}
		})
	}
}

func TestBadBaseDNIsNotTransient(t *testing.T) {
	t.Parallel()
	dc := samba.Start(t)
	c := dial(t, adConfig(dc, "OU=does-not-exist,"+dc.BaseDN))
	_, err := c.SearchUsers(context.Background(), func(page []events.DirectoryEntry) error { return nil })
	if err == nil {
		t.Fatal("search of a missing base DN succeeded")
	}
	t.Logf("error: %v", err)
	for _, want := range []string{`domain "corp": search ldaps://127.0.0.1:636 base "OU=does-not-exist,`, "no such object (LDAP 32)", "check base_dn"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if IsTransient(err) {
		t.Error("IsTransient = true for a missing base DN")
	}
}

func TestEmptyPasswordRefusedBeforeDialing(t *testing.T) {
	t.Parallel()
	for _, scheme := range []string{"ldap", "ldaps"} {
		t.Run(scheme, func(t *testing.T) {
			r := newRecorder(t, nil)
			_, err := Dial(context.Background(), Config{Name: "corp", URL: scheme + "://" + r.addr(),
				BindDN: "svc@corp", BaseDN: "DC=corp"})
			if err == nil || !strings.Contains(err.Error(), `domain "corp": bind password is empty`) {
				t.Fatalf("Dial error = %v", err)
			}
			time.Sleep(50 * time.Millisecond) // let a stray connection be accepted, if any
			if n, _ := r.snapshot(); n != 0 {
				t.Fatalf("%d connections were made", n)
			}
		})
	}
}

// TestWrongCANoBytesAfterHandshake runs a TLS server whose certificate the
// client does not trust and checks that the handshake fails on both sides,
// so that no LDAP byte (and no password) was ever sent.
func TestWrongCANoBytesAfterHandshake(t *testing.T) {
	t.Parallel()
	server, err := testenv.WriteTLS(filepath.Join(t.TempDir(), "server"), nil, []net.IP{net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	client, err := testenv.WriteTLS(filepath.Join(t.TempDir(), "client"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(server.CertFile, server.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	handshakeErr := make(chan error, 1)
	r := newRecorder(t, func(r *recorder, c net.Conn) {
		tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}})
		err := tc.Handshake()
		handshakeErr <- err
		if err == nil {
			r.readAll(tc)
		}
	})
	const password = "N0t-To-Be-Sent"
	_, err = Dial(context.Background(), Config{Name: "corp", URL: "ldaps://" + r.addr(), CAFile: client.CAFile,
		BindDN: "svc@corp", BindPassword: password, BaseDN: "DC=corp"})
	if err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
		t.Fatalf("Dial error = %v", err)
	}
	if IsTransient(err) {
		t.Error("a certificate problem is not transient")
	}
	select {
	case herr := <-handshakeErr:
		if herr == nil {
			t.Fatal("server-side handshake succeeded")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no connection reached the server")
	}
	if _, data := r.snapshot(); len(data) != 0 {
		t.Fatalf("server received %d application bytes", len(data))
	}
}

// TestLDAPURLStartsWithStartTLS checks that on ldap:// the first request is
// StartTLS, not a bind, and that nothing else is sent if the server then
// hangs up.
func TestLDAPURLStartsWithStartTLS(t *testing.T) {
	t.Parallel()
	r := newRecorder(t, nil)
	const password = "N0t-In-Clear-Text"
	_, err := Dial(context.Background(), Config{Name: "corp", URL: "ldap://" + r.addr(),
		BindDN: "svc@corp", BindPassword: password, BaseDN: "DC=corp", Timeout: 500 * time.Millisecond})
	if err == nil {
		t.Fatal("Dial succeeded against a mute server")
	}
	t.Logf("error: %v", err)
	_, data := r.snapshot()
	if !bytes.Contains(data, []byte(oidStartTLS)) {
		t.Fatalf("first request is not StartTLS: %q", data)
	}
	if bytes.Contains(data, []byte(password)) || bytes.Contains(data, []byte("svc@corp")) {
		t.Fatalf("bind sent in clear text: %q", data)
	}
	if !IsTransient(err) {
		t.Errorf("a server that does not answer is transient: %v", err)
	}
}

func TestDialHonoursContext(t *testing.T) {
	t.Parallel()
	r := newRecorder(t, nil) // accepts and never answers
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Dial(ctx, Config{Name: "corp", URL: "ldaps://" + r.addr(), BindDN: "svc", BindPassword: "x", BaseDN: "dc=x"})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("Dial = %v after %v", err, time.Since(start))
	}
	if !IsTransient(err) {
		t.Error("a time-out is transient")
	}
}

func TestStartTLSRefused(t *testing.T) {
	t.Parallel()
	r := newRecorder(t, func(r *recorder, c net.Conn) {
		if _, err := ber.ReadPacket(c); err != nil {
			return
		}
		resp := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAP Response")
		resp.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, int64(1), "MessageID"))
		op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationExtendedResponse, nil, "Extended Response")
		op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, int64(ldap.LDAPResultProtocolError), "resultCode"))
		op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", "matchedDN"))
		op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "unsupported extended operation", "diagnosticMessage"))
		resp.AppendChild(op)
		if _, err := c.Write(resp.Bytes()); err != nil {
			return
		}
		r.readAll(c) // record anything sent afterwards
	})
	_, err := Dial(context.Background(), Config{Name: "corp", URL: "ldap://" + r.addr(),
		BindDN: "svc@corp", BindPassword: "pw-not-sent", BaseDN: "DC=corp", Timeout: 2 * time.Second})
	want := `domain "corp": connect ldap://` + r.addr() + `: the server refused StartTLS: protocol error (LDAP 2): unsupported extended operation`
	if err == nil || err.Error() != want {
		t.Fatalf("Dial error\n%v\nwant\n%s", err, want)
	}
	if IsTransient(err) {
		t.Error("a refused StartTLS is not transient")
	}
	time.Sleep(50 * time.Millisecond)
	if _, data := r.snapshot(); len(data) != 0 {
		t.Fatalf("client sent %q after the refusal", data)
	}
}

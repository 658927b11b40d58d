package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/adsync/adsync/internal/cli"
	"github.com/adsync/adsync/internal/testenv/slapd"
)

// Each kind of NATS credential adsync supports (besides user/password,
// TestEmbeddedBusRequiresTLSAndCredentials): with the right one `adsync
// run` syncs; with a wrong or missing one adsync is refused and says so.
func TestNATSCredentialKinds(t *testing.T) {
	t.Parallel()
	openldap := slapd.Start(t, slapd.WithUsers(3))
	cases := []struct {
		name string
		// setup starts what the case needs and returns the nats lines of
		// the configuration, how the schema check connects, and the wrong
		// configurations with what their error must say.
		setup func(t *testing.T, dir string) (natsYAML string, captureURL string, capture []nats.Option, wrong []wrongCredential)
	}{
		{"token", tokenBus},
		{"nkey", nkeyBus},
		{"creds", credsBus},
		{"client certificate", clientCertBus},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			natsYAML, url, opts, wrong := c.setup(t, dir)
			sys := Start(t, []Domain{LDAPDomain("lab", openldap)}, WithNATS(natsYAML), WithCapture(url, opts...))
			sys.MustCLI("job", "create", "lab-sync", "--all-domains")
			sum := sys.MustComplete("lab-sync")
			if created, _, _, _, _ := Counts(t, sum, "lab"); created != 3 {
				t.Fatalf("created %d, want 3", created)
			}
			raw, err := os.ReadFile(sys.ConfigPath)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range wrong {
				t.Run(w.name, func(t *testing.T) {
					cfg := strings.Replace(string(raw), natsYAML, w.natsYAML, 1)
					path := filepath.Join(t.TempDir(), "adsync.yaml")
					if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
						t.Fatal(err)
					}
					ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
					defer cancel()
					var out syncBuffer
					err := cli.Run(ctx, []string{"job", "list", "-c", path}, cli.Env{Stdout: &out, Stderr: &out})
					if err == nil {
						t.Fatalf("connected with %s: %s", w.name, out.String())
					}
					t.Logf("refused: %v", err)
					for _, want := range w.says {
						if !strings.Contains(err.Error(), want) {
							t.Errorf("error %q does not say %q", err, want)
						}
					}
					if strings.Contains(err.Error(), "is adsync running?") {
						t.Errorf("error %q sends the administrator to start adsync, which is running", err)
					}
				})
			}
		})
	}
}

type wrongCredential struct {
	name     string
	natsYAML string
	says     []string
}

func writeSecret(t *testing.T, path, value string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(value), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// tokenBus: the embedded server requires the token of nats.token_file.
func tokenBus(t *testing.T, dir string) (string, string, []nats.Option, []wrongCredential) {
	good := writeSecret(t, filepath.Join(dir, "token"), "tok-5f1c9e\n")
	bad := writeSecret(t, filepath.Join(dir, "bad-token"), "tok-guess\n")
	return "  token_file: " + good + "\n", "", []nats.Option{nats.Token("tok-5f1c9e")}, []wrongCredential{
		{"wrong token", "  token_file: " + bad + "\n", []string{"the server refused the token"}},
		{"no token", "", []string{"the server refused a connection without credentials"}},
	}
}

// startServer starts a separate NATS server with JetStream for one case.
func startServer(t *testing.T, dir string, o *server.Options) string {
	t.Helper()
	o.Host, o.Port = "127.0.0.1", -1
	o.JetStream, o.StoreDir, o.NoSigs, o.NoLog = true, filepath.Join(dir, "jetstream"), true, true
	o.MaxPayload = 8 << 20
	ns, err := server.NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(15 * time.Second) {
		t.Fatal("NATS server did not start")
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	return ns.ClientURL()
}

// nkeyBus: a server that knows one NKey user; adsync signs with its seed.
func nkeyBus(t *testing.T, dir string) (string, string, []nats.Option, []wrongCredential) {
	user, seedFile := newNKey(t, filepath.Join(dir, "adsync.nk"))
	_, otherSeed := newNKey(t, filepath.Join(dir, "other.nk"))
	url := startServer(t, dir, &server.Options{Nkeys: []*server.NkeyUser{{Nkey: user}}})
	opt, err := nats.NkeyOptionFromSeed(seedFile)
	if err != nil {
		t.Fatal(err)
	}
	return "  url: " + url + "\n  nkey_file: " + seedFile + "\n", url, []nats.Option{opt}, []wrongCredential{
		{"unknown nkey", "  url: " + url + "\n  nkey_file: " + otherSeed + "\n", []string{"the server refused the NKey of nats.nkey_file " + otherSeed}},
		{"no nkey", "  url: " + url + "\n", []string{"the server refused a connection without credentials"}},
	}
}

func newNKey(t *testing.T, seedFile string) (public, path string) {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := kp.Seed()
	public, _ = kp.PublicKey()
	return public, writeSecret(t, seedFile, string(seed)+"\n")
}

// credsBus: decentralized JWT authentication. An operator trusted by the
// server, an account with JetStream signed by it, a user of the account in
// a .creds file.
func credsBus(t *testing.T, dir string) (string, string, []nats.Option, []wrongCredential) {
	operator, _ := nkeys.CreateOperator()
	opub, _ := operator.PublicKey()
	ojwt, err := jwt.NewOperatorClaims(opub).Encode(operator)
	if err != nil {
		t.Fatal(err)
	}
	oc, err := jwt.DecodeOperatorClaims(ojwt)
	if err != nil {
		t.Fatal(err)
	}
	account, _ := nkeys.CreateAccount()
	apub, _ := account.PublicKey()
	ac := jwt.NewAccountClaims(apub)
	ac.Name = "ADSYNC"
	ac.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1, Streams: -1, Consumer: -1}
	ajwt, err := ac.Encode(operator)
	if err != nil {
		t.Fatal(err)
	}
	resolver := &server.MemAccResolver{}
	if err := resolver.Store(apub, ajwt); err != nil {
		t.Fatal(err)
	}
	// JetStream needs a system account in operator mode.
	system, _ := nkeys.CreateAccount()
	spub, _ := system.PublicKey()
	sc := jwt.NewAccountClaims(spub)
	sc.Name = "SYS"
	sjwt, err := sc.Encode(operator)
	if err != nil {
		t.Fatal(err)
	}
	if err := resolver.Store(spub, sjwt); err != nil {
		t.Fatal(err)
	}
	url := startServer(t, dir, &server.Options{TrustedOperators: []*jwt.OperatorClaims{oc}, AccountResolver: resolver, SystemAccount: spub})
	good := writeCreds(t, filepath.Join(dir, "adsync.creds"), account)
	// A user signed by an account the operator never signed.
	stranger, _ := nkeys.CreateAccount()
	bad := writeCreds(t, filepath.Join(dir, "stranger.creds"), stranger)
	return "  url: " + url + "\n  creds_file: " + good + "\n", url, []nats.Option{nats.UserCredentials(good)}, []wrongCredential{
		{"user of an unknown account", "  url: " + url + "\n  creds_file: " + bad + "\n", []string{"the server refused the credentials of nats.creds_file " + bad}},
		{"no creds", "  url: " + url + "\n", []string{"the server refused a connection without credentials"}},
		{"missing creds file", "  url: " + url + "\n  creds_file: " + filepath.Join(dir, "absent.creds") + "\n", []string{"absent.creds"}},
	}
}

func writeCreds(t *testing.T, path string, account nkeys.KeyPair) string {
	t.Helper()
	user, _ := nkeys.CreateUser()
	upub, _ := user.PublicKey()
	ujwt, err := jwt.NewUserClaims(upub).Encode(account)
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := user.Seed()
	creds, err := jwt.FormatUserConfig(ujwt, seed)
	if err != nil {
		t.Fatal(err)
	}
	return writeSecret(t, path, string(creds))
}

// clientCertBus: a server that verifies client certificates (mutual TLS).
func clientCertBus(t *testing.T, dir string) (string, string, []nats.Option, []wrongCredential) {
	ca := newCA(t, filepath.Join(dir, "ca"))
	serverCert, serverKey := ca.issue(t, filepath.Join(dir, "server"), x509.ExtKeyUsageServerAuth)
	clientCert, clientKey := ca.issue(t, filepath.Join(dir, "client"), x509.ExtKeyUsageClientAuth)
	other := newCA(t, filepath.Join(dir, "other-ca"))
	otherCert, otherKey := other.issue(t, filepath.Join(dir, "other-client"), x509.ExtKeyUsageClientAuth)
	tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: serverCert, KeyFile: serverKey, CaFile: ca.certFile, Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	url := startServer(t, dir, &server.Options{TLS: true, TLSVerify: true, TLSConfig: tc})
	url = strings.Replace(url, "nats://", "tls://", 1)
	tlsYAML := func(caFile, cert, key string) string {
		s := "  url: " + url + "\n  ca_file: " + caFile + "\n"
		if cert != "" {
			s += "  cert_file: " + cert + "\n  key_file: " + key + "\n"
		}
		return s
	}
	return tlsYAML(ca.certFile, clientCert, clientKey), url, []nats.Option{nats.RootCAs(ca.certFile), nats.ClientCert(clientCert, clientKey)}, []wrongCredential{
		{"no client certificate", tlsYAML(ca.certFile, "", ""), []string{"connect to NATS at " + url + ": TLS failed", "nats.cert_file"}},
		{"certificate of another CA", tlsYAML(ca.certFile, otherCert, otherKey), []string{"connect to NATS at " + url + ": TLS failed", "nats.cert_file"}},
		{"server not trusted", tlsYAML(other.certFile, clientCert, clientKey), []string{"connect to NATS at " + url + ": TLS failed", "nats.ca_file", "unknown authority"}},
	}
}

type testCA struct {
	cert     *x509.Certificate
	key      *ecdsa.PrivateKey
	certFile string
}

func newCA(t *testing.T, prefix string) testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "adsync test CA " + filepath.Base(prefix)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return testCA{cert: cert, key: key, certFile: writePEMFile(t, prefix+".pem", "CERTIFICATE", der)}
}

// issue writes a certificate for 127.0.0.1 signed by the CA and its key.
func (ca testCA) issue(t *testing.T, prefix string, usage x509.ExtKeyUsage) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: filepath.Base(prefix)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return writePEMFile(t, prefix+".pem", "CERTIFICATE", der), writePEMFile(t, prefix+"-key.pem", "EC PRIVATE KEY", keyDER)
}

func writePEMFile(t *testing.T, path, blockType string, der []byte) string {
	t.Helper()
	return writeSecret(t, path, string(pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der})))
}

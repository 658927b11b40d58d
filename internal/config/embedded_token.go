package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// The one-machine default runs NATS inside `adsync run`. Any local process
// could otherwise connect to it and create jobs, approve held plans or turn
// single sign-on on. So unless nats.allow_anonymous is set, the embedded
// server requires a token that `adsync run` generates on its first start
// into data_dir (mode 0600), and that its services and the command line on
// the same machine read from there: whoever can read the data directory
// can administer adsync, and no one else.

// EmbeddedTokenFile is where the embedded server's generated token lives.
func (f *File) EmbeddedTokenFile() string { return filepath.Join(f.DataDir, "nats.token") }

// usesEmbeddedToken says whether the bus is the embedded server with the
// generated token: no nats.url, no credentials of the operator's, and
// anonymous access not allowed.
func (f *File) usesEmbeddedToken() bool {
	n := f.NATS
	return n.URL == "" && !n.AllowAnonymous && n.User == "" && n.TokenFile == "" && n.TokenEnv == "" &&
		n.CredsFile == "" && n.NKeyFile == "" && n.CertFile == ""
}

// EmbeddedToken returns the generated token of the embedded server, creating
// it when create is set and there is none yet; "" without create and no
// file, or when the embedded server does not use one (usesEmbeddedToken).
func (f *File) EmbeddedToken(create bool) (string, error) {
	if !f.usesEmbeddedToken() {
		return "", nil
	}
	path := f.EmbeddedTokenFile()
	raw, err := os.ReadFile(path)
	switch {
	case err == nil:
		if len(raw) < 32 {
			return "", fmt.Errorf("%s is not a token adsync generated (delete it: adsync run makes a new one)", path)
		}
		return string(raw), nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("read the NATS token %s: %w (run the command line as the user adsync runs as)", path, errors.Unwrap(err))
	case !create:
		return "", nil
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	token := hex.EncodeToString(b[:])
	if err := os.MkdirAll(f.DataDir, 0o700); err != nil {
		return "", fmt.Errorf("create the data directory: %w", err)
	}
	// O_EXCL: two processes starting at once keep the first one's token.
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return f.EmbeddedToken(false)
	}
	if err != nil {
		return "", fmt.Errorf("write the NATS token: %w", err)
	}
	if _, err := fh.WriteString(token); err != nil {
		fh.Close()
		return "", fmt.Errorf("write the NATS token: %w", err)
	}
	return token, fh.Close()
}

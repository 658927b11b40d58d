package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
)

// NewAdminPassword returns a random password that meets AD's complexity rules
// (upper case, lower case, digit, symbol; longer than 7 characters).
func NewAdminPassword() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random password: %w", err)
	}
	return "Ad-" + hex.EncodeToString(b) + "-z9", nil
}

// WriteSecret writes a one-line secret file with mode 0600.
func WriteSecret(path, secret string) error {
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("chmod %s: %w", path, err)
	}
	return nil
}

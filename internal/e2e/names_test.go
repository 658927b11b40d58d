package e2e

import (
	"crypto/rand"
	"os"
	"strings"
	"testing"

	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/services/account-writer/accounts"
)

// newTag returns a short random tag that makes directory names unique in
// the shared Samba domain (sAMAccountName and UPN are domain-wide).
func newTag(t *testing.T) string {
	t.Helper()
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:])
}

// byBaseName indexes accounts by username without the test's tag.
func byBaseName(t *testing.T, list []accounts.Account, tag string) map[string]accounts.Account {
	t.Helper()
	m := map[string]accounts.Account{}
	for _, a := range list {
		k := strings.TrimSuffix(a.Username, tag)
		if _, dup := m[k]; dup {
			t.Fatalf("two accounts named %s", a.Username)
		}
		m[k] = a
	}
	return m
}

func readFile(p string) (string, error) {
	raw, err := os.ReadFile(p)
	return string(raw), err
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

package receivers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// WebhookReceiver is an HTTP receiver of signed webhooks on loopback. It
// checks each request's signature (X-Adsync-Signature: sha256=HMAC of
// timestamp + "." + body) and keeps the bodies it accepted; while Down, it
// answers 503.
type WebhookReceiver struct {
	URL    string
	Secret string
	down   atomic.Bool

	mu       sync.Mutex
	accepted [][]byte
	refused  int
	badSigs  int
}

// Webhook starts a receiver until the test ends.
func Webhook(t testing.TB, secret string) *WebhookReceiver {
	t.Helper()
	w := &WebhookReceiver{Secret: secret}
	srv := httptest.NewServer(http.HandlerFunc(w.serve))
	t.Cleanup(srv.Close)
	w.URL = srv.URL
	return w
}

func (w *WebhookReceiver) serve(rw http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.down.Load() {
		w.refused++
		http.Error(rw, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	mac := hmac.New(sha256.New, []byte(w.Secret))
	mac.Write([]byte(r.Header.Get("X-Adsync-Timestamp") + "."))
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(r.Header.Get("X-Adsync-Signature"))) {
		w.badSigs++
		http.Error(rw, "bad signature", http.StatusUnauthorized)
		return
	}
	w.accepted = append(w.accepted, body)
	rw.WriteHeader(http.StatusNoContent)
}

// SetDown makes the receiver answer 503 (true) or accept again.
func (w *WebhookReceiver) SetDown(down bool) { w.down.Store(down) }

// Accepted returns the bodies accepted so far, the requests refused while
// down, and those with a wrong signature.
func (w *WebhookReceiver) Accepted() (bodies [][]byte, refusedWhileDown, badSignatures int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([][]byte(nil), w.accepted...), w.refused, w.badSigs
}

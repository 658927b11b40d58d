package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
)

// Webhook POSTs each notification as JSON, signed as GitHub and Stripe
// sign theirs: X-Adsync-Timestamp is the unix time, X-Adsync-Signature
// "sha256=" and the hex HMAC-SHA256 of timestamp + "." + body under the
// shared secret. The payload's "text" makes Slack- and Teams-style incoming
// webhooks show it as it is.
type Webhook struct {
	ChannelName string
	URL         string
	Secret      []byte // never logged
	Client      *http.Client
	Now         func() time.Time
}

// CheckWebhookURL allows http:// only to a loopback address.
func CheckWebhookURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("url %q is not a URL", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || host == "localhost" {
			return nil
		}
		return fmt.Errorf("url %q: http:// only to a loopback address; use https://", raw)
	}
	return fmt.Errorf("url %q: use https:// (or http:// to a loopback address)", raw)
}

// Name is the channel's name.
func (w *Webhook) Name() string { return w.ChannelName }

// Sign returns the signature header's value for a timestamp and body.
func Sign(secret []byte, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(timestamp))
	mac.Write([]byte("."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Send posts the notification.
func (w *Webhook) Send(ctx context.Context, n *events.NotificationRequested) error {
	body, err := json.Marshal(n)
	if err != nil {
		return err
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	ts := strconv.FormatInt(now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "adsync-notifier")
	req.Header.Set("X-Adsync-Timestamp", ts)
	req.Header.Set("X-Adsync-Signature", Sign(w.Secret, ts, body))
	req.Header.Set("X-Adsync-Idempotency-Key", n.ID+":"+n.State)
	client := w.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook %s: %w", w.ChannelName, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests:
		return refused("webhook %s answered %s", w.ChannelName, resp.Status)
	}
	return fmt.Errorf("webhook %s answered %s", w.ChannelName, resp.Status)
}

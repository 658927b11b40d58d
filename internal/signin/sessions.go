package signin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/adsync/adsync/internal/infra/typedkv"
)

// Session is a signed-in console user. The cookie carries its id; the
// bucket keeps it under the id's SHA-256, so that reading the bucket gives
// no one a session.
type Session struct {
	User string `json:"user"`
	Role string `json:"role"`
	// Kind is local (a local administrator) or directory.
	Kind string `json:"kind"`
	// CSRF is the token every change must carry.
	CSRF      string    `json:"csrf"`
	CreatedAt time.Time `json:"created_at"`
	SeenAt    time.Time `json:"seen_at"`
}

// Sessions keeps sessions in a bucket whose TTL is the idle timeout.
type Sessions struct {
	KV  jetstream.KeyValue
	Now func() time.Time
}

func sessionKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return "s." + hex.EncodeToString(sum[:])
}

func random() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Start creates a session and returns its id (the cookie's value).
func (s *Sessions) Start(ctx context.Context, user, role, kind string) (string, *Session, error) {
	id := random()
	now := s.Now().UTC()
	sess := &Session{User: user, Role: role, Kind: kind, CSRF: random(), CreatedAt: now, SeenAt: now}
	if _, err := s.bucket().Write(ctx, sessionKey(id), *sess, 0); err != nil {
		return "", nil, fmt.Errorf("start a session: %w", err)
	}
	return id, sess, nil
}

// Get returns a live session, refreshed (its idle timeout starts again)
// at most once a minute; nil if there is none.
func (s *Sessions) Get(ctx context.Context, id string) (*Session, error) {
	if id == "" {
		return nil, nil
	}
	sess, rev, err := s.bucket().Get(ctx, sessionKey(id))
	if errors.Is(err, typedkv.ErrUnreadable) {
		return nil, nil
	}
	if err != nil || sess == nil {
		return nil, err
	}
	if now := s.Now().UTC(); now.Sub(sess.SeenAt) > time.Minute {
		sess.SeenAt = now
		_, _ = s.bucket().Write(ctx, sessionKey(id), *sess, rev)
	}
	return sess, nil
}

func (s *Sessions) bucket() typedkv.Bucket[Session] {
	return typedkv.Bucket[Session]{KV: s.KV, What: "session"}
}

// End removes a session (sign-out).
func (s *Sessions) End(ctx context.Context, id string) error {
	if id == "" {
		return nil
	}
	return s.KV.Purge(ctx, sessionKey(id))
}

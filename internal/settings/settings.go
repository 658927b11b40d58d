// Package settings holds installation-wide settings in a JetStream
// key-value bucket: the environment id and the single sign-on switches.
//
// Owner: internal/admin (Ops.SetSSO, Ops.RestoreSSO) writes the sign-on
// switches, for the command line and the api service, so that every
// change is checked and audited once. The environment id is written once,
// by whichever reader first finds none (a create: the first one wins),
// and never again. guard and admission only read.
package settings

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/adsync/adsync/internal/infra/typedkv"
)

// SSO kinds.
const (
	SAML = "saml"
	OIDC = "oidc"
)

// SSOKinds lists the single sign-on kinds, in display order.
var SSOKinds = []string{SAML, OIDC}

// SSOName is the display name of a kind.
func SSOName(kind string) string {
	switch kind {
	case SAML:
		return "SAML"
	case OIDC:
		return "OpenID Connect"
	}
	return kind
}

// SSOState is one sign-on kind's switch.
type SSOState struct {
	Enabled   bool      `json:"enabled"`
	ChangedAt time.Time `json:"changed_at"`
}

// Store reads and writes settings.
type Store struct {
	KV jetstream.KeyValue
}

const keyEnvironment = "environment"

// Environment returns the installation's environment id, creating it the
// first time. It never changes afterwards.
func (s *Store) Environment(ctx context.Context) (string, error) {
	e, err := s.KV.Get(ctx, keyEnvironment)
	if err == nil {
		return string(e.Value()), nil
	}
	if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", fmt.Errorf("read environment id: %w", err)
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	id := "env-" + hex.EncodeToString(b[:])
	if _, err := s.KV.Create(ctx, keyEnvironment, []byte(id)); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			return s.Environment(ctx) // created concurrently
		}
		return "", fmt.Errorf("create environment id: %w", err)
	}
	return id, nil
}

func ssoKey(kind string) string { return "sso." + kind }

// SSO returns the state of every sign-on kind.
func (s *Store) SSO(ctx context.Context) (map[string]SSOState, error) {
	out := map[string]SSOState{}
	for _, k := range SSOKinds {
		st, _, err := s.sso().Get(ctx, ssoKey(k))
		if err != nil {
			return nil, err
		}
		if st == nil {
			st = &SSOState{}
		}
		out[k] = *st
	}
	return out, nil
}

// SetSSO switches a sign-on kind on or off.
func (s *Store) SetSSO(ctx context.Context, kind string, enabled bool, now time.Time) error {
	if kind != SAML && kind != OIDC {
		return fmt.Errorf("unknown single sign-on kind %q: use saml or oidc", kind)
	}
	return s.sso().Put(ctx, ssoKey(kind), SSOState{Enabled: enabled, ChangedAt: now.UTC()})
}

func (s *Store) sso() typedkv.Bucket[SSOState] {
	return typedkv.Bucket[SSOState]{KV: s.KV, What: "single sign-on setting"}
}

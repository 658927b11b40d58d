// Package signin is who may sign in to the web console: local
// administrators (break-glass accounts, `adsync admin add`), whose
// passwords are kept only as bcrypt hashes in the bucket adsync_admins,
// and the sessions of those signed in, in the bucket adsync_sessions,
// which expire when idle. The command line writes administrators; the api
// service writes sessions; nothing else writes either.
package signin

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/crypto/bcrypt"

	"github.com/adsync/adsync/internal/infra/typedkv"
)

// Admin is a local administrator.
type Admin struct {
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	Hash      string    `json:"hash,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Roles a console user may have.
var Roles = []string{"viewer", "operator", "admin"}

// Errors.
var (
	ErrNoAdmin     = errors.New("no such administrator")
	ErrAdminExists = errors.New("an administrator of this name exists")
	ErrBadPassword = errors.New("wrong name or password")
)

var adminName = regexp.MustCompile(`^[A-Za-z0-9._@-]{1,64}$`)

// MinPassword is the shortest password accepted.
const MinPassword = 12

// cost is bcrypt's work factor: about a quarter of a second here.
const cost = 12

// Admins keeps local administrators.
type Admins struct {
	KV  jetstream.KeyValue
	Now func() time.Time
}

func key(name string) string { return "admin." + strings.ToLower(name) }

// Check reports what is wrong with a name, role and password.
func Check(name, role, password string) error {
	var errs []error
	if !adminName.MatchString(name) {
		errs = append(errs, fmt.Errorf("name %q: use 1-64 letters, digits, '.', '_', '@' or '-'", name))
	}
	if role != "" && !slices.Contains(Roles, role) {
		errs = append(errs, fmt.Errorf("role %q: use viewer, operator or admin", role))
	}
	if password != "-" && len(password) < MinPassword {
		errs = append(errs, fmt.Errorf("the password must have at least %d characters", MinPassword))
	}
	if len(password) > 72 {
		errs = append(errs, errors.New("the password may have at most 72 bytes (bcrypt)"))
	}
	return errors.Join(errs...)
}

// Add creates an administrator.
func (s *Admins) Add(ctx context.Context, name, role, password string) error {
	if err := Check(name, role, password); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return err
	}
	now := s.Now().UTC()
	_, err = s.bucket().Write(ctx, key(name), Admin{Name: name, Role: role, Hash: string(hash), CreatedAt: now, UpdatedAt: now}, 0)
	if errors.Is(err, typedkv.ErrConflict) {
		return fmt.Errorf("administrator %s: %w", name, ErrAdminExists)
	}
	return err
}

func (s *Admins) bucket() typedkv.Bucket[Admin] {
	return typedkv.Bucket[Admin]{KV: s.KV, What: "administrator"}
}

// Get returns an administrator (with the hash).
func (s *Admins) Get(ctx context.Context, name string) (*Admin, uint64, error) {
	a, rev, err := s.bucket().Get(ctx, key(name))
	if err == nil && a == nil {
		return nil, 0, fmt.Errorf("administrator %s: %w", name, ErrNoAdmin)
	}
	return a, rev, err
}

// SetPassword changes an administrator's password.
func (s *Admins) SetPassword(ctx context.Context, name, password string) error {
	if err := Check(name, "", password); err != nil {
		return err
	}
	a, rev, err := s.Get(ctx, name)
	if err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return err
	}
	a.Hash, a.UpdatedAt = string(hash), s.Now().UTC()
	_, err = s.bucket().Write(ctx, key(name), *a, rev)
	return err
}

// Remove deletes an administrator.
func (s *Admins) Remove(ctx context.Context, name string) error {
	if _, _, err := s.Get(ctx, name); err != nil {
		return err
	}
	return s.bucket().Delete(ctx, key(name), 0)
}

// List returns the administrators, without their hashes.
func (s *Admins) List(ctx context.Context) ([]Admin, error) {
	all, err := s.bucket().All(ctx)
	if err != nil {
		return nil, err
	}
	out := []Admin{}
	for _, a := range all {
		a.Hash = ""
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b Admin) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// dummyHash is compared when the name is unknown, so that an unknown name
// takes as long as a wrong password: a hash at cost of a random password
// nobody kept. A literal: generated at start, it cost every adsync process
// (each command line) 230 ms.
var dummyHash = []byte("$2a$12$w6U/lEhMonW8o2FAmBE6vuGucELfENiGKz4bjBy1.KPiqJcdhXOk.")

// Verify checks a name and password; ErrBadPassword for either wrong.
func (s *Admins) Verify(ctx context.Context, name, password string) (*Admin, error) {
	a, _, err := s.Get(ctx, name)
	if errors.Is(err, ErrNoAdmin) {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return nil, ErrBadPassword
	}
	if err != nil {
		return nil, err
	}
	if bcrypt.CompareHashAndPassword([]byte(a.Hash), []byte(password)) != nil {
		return nil, ErrBadPassword
	}
	a.Hash = ""
	return a, nil
}

// Equal compares two secrets in constant time.
func Equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// Rank orders roles: each may do what the ones below it may.
func Rank(role string) int { return slices.Index(Roles, role) + 1 }

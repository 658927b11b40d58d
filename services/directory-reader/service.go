// Package directoryreader is the directory-reader service. On a job server
// it fans an approved run out into one read request per domain, reads each
// domain with a paged search and streams the entries as directory.page
// events, ending each attempt with directory.completed or directory.failed.
// A transient failure of a job with requeue on is retried through JetStream
// redelivery of the read request (nak with a growing delay); each attempt
// after the first passes guard's admission checks again (internal/admission)
// and, refused, ends the domain as failed without reading.
package directoryreader

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/micro"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/admission"
	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/internal/ldapdir"
	"github.com/adsync/adsync/internal/natsapi"
)

// DefaultEntriesPerEvent is how many entries a directory.page event holds
// at most. Measured with make bench (100,000 users, CPU seconds of diff):
//
//	entries per event           1,000   2,500   5,000
//	no change, ordered ids       0.50    0.41    0.35
//	first sync, random ids       2.5     2.0     1.8
//	peak RSS of diff, MB           72      89     132
//
// A page is one transaction of diff's; with random (Active Directory) ids
// each one rewrites pages all over diff's keyed table, so fewer, larger
// pages cost less; NATS' CPU falls too. 5,000 saved a little more CPU but
// took the reader and diff about 30 MB closer to the 150 MB a service may
// use.
const DefaultEntriesPerEvent = 2500

// BytesPerEvent is the largest directory.page event the reader publishes
// to a server whose max_payload is maxPayload (0: unknown, NATS' default
// 1 MB): 2 MiB (2,500 entries of a few hundred bytes fit), or three
// quarters of max_payload when that is less, leaving room for the headers
// and for the changes event diff derives from the page.
func BytesPerEvent(maxPayload int64) int {
	if maxPayload <= 0 {
		maxPayload = 1 << 20
	}
	return int(min(2<<20, maxPayload*3/4))
}

// Config of the directory-reader service.
type Config struct {
	// Domains are the directories this reader can read, by name.
	Domains []ldapdir.Config
	// MaxEntriesPerEvent and MaxBytesPerEvent bound a directory.page event.
	MaxEntriesPerEvent int
	MaxBytesPerEvent   int
	Now                func() time.Time
}

// Publisher publishes events (the bus); NewStream publishes pages without
// waiting for each acknowledgement.
type Publisher interface {
	Publish(ctx context.Context, evs ...events.Event) error
	NewStream(window int) *bus.Stream
}

// Directory reads one domain's groups and users, page by page.
type Directory interface {
	Mark(ctx context.Context, overlap time.Duration) (events.Watermark, error)
	ChangedSince(w events.Watermark)
	GroupsChangedSince(ctx context.Context, w events.Watermark) ([]string, error)
	Deleted(ctx context.Context, w events.Watermark) ([]string, error)
	ReadGroups(ctx context.Context, scope events.Scope) (*ldapdir.GroupGraph, error)
	OnSkipped(fn func(ldapdir.Skipped))
	SearchUsers(ctx context.Context, fn func(page []events.DirectoryEntry) error) (ldapdir.Stats, error)
	ChangedUsers(ctx context.Context, keep func(id string) bool, max int) ([]ldapdir.Departure, error)
	LeftScope(ctx context.Context, changed []ldapdir.Departure, inRead func(id string) bool) ([]ldapdir.Departure, error)
	ScopeGroupsChanged(ctx context.Context, w events.Watermark) ([]string, error)
	SweepIDs(ctx context.Context, fn func(ids []string) error) error
	Lookup(ctx context.Context, ids []string) (map[string]string, error)
	InScope(ctx context.Context, ids []string) (map[string]bool, error)
	Close() error
}

// Dialer connects to a domain's directory.
type Dialer func(ctx context.Context, cfg ldapdir.Config) (Directory, error)

// DialLDAP is the Dialer for real directories. The connection users are
// read over starts opening at once, while the first one reads the watermark
// and the groups.
func DialLDAP(ctx context.Context, cfg ldapdir.Config) (Directory, error) {
	c, err := ldapdir.Dial(ctx, cfg)
	if err != nil {
		return nil, err
	}
	c.PrepareUsers(ctx)
	return c, nil
}

// Watermarks say where each domain's next delta read starts.
type Watermarks interface {
	Get(ctx context.Context, domain string) (*events.Watermark, error)
}

// Admission applies guard's admission checks that do not depend on the
// run's lease (single sign-on, job missing or disabled, environment) again
// before each attempt after the first.
type Admission interface {
	Refusals(ctx context.Context, job string) ([]admission.Refusal, error)
}

// Service is the directory-reader service.
type Service struct {
	cfg       Config
	domains   map[string]ldapdir.Config
	pub       Publisher
	dial      Dialer
	marks     Watermarks
	admission Admission
}

// New returns the service.
func New(cfg Config, pub Publisher, dial Dialer, marks Watermarks, admit Admission) (*Service, error) {
	if admit == nil {
		return nil, errors.New("directory-reader: the admission checks of requeued attempts are required")
	}
	if cfg.MaxEntriesPerEvent <= 0 {
		cfg.MaxEntriesPerEvent = DefaultEntriesPerEvent
	}
	if cfg.MaxBytesPerEvent <= 0 {
		cfg.MaxBytesPerEvent = BytesPerEvent(0)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if dial == nil {
		dial = DialLDAP
	}
	s := &Service{cfg: cfg, domains: map[string]ldapdir.Config{}, pub: pub, dial: dial, marks: marks, admission: admit}
	for _, d := range cfg.Domains {
		d = withClock(d, cfg.Now).WithDefaults()
		if _, dup := s.domains[d.Name]; dup {
			return nil, fmt.Errorf("directory-reader: domain %q configured twice", d.Name)
		}
		s.domains[d.Name] = d
	}
	return s, nil
}

// Register adds the service's handlers to a router. Only job servers call
// it: elsewhere the reader stays idle.
func (s *Service) Register(r *bus.Router) error {
	return errors.Join(
		bus.Handle(r, bus.ConsumerReaderApproved, s.HandleApproved),
		bus.Handle(r, bus.ConsumerReaderRequested, s.HandleRequested),
	)
}

// HandleApproved fans a run out into one read request per domain.
func (s *Service) HandleApproved(ctx context.Context, a *events.SyncApproved) error {
	reqs := make([]events.Event, 0, len(a.Domains))
	for _, d := range a.Domains {
		reqs = append(reqs, &events.DirectoryRequested{Run: a.Run, Domain: d, Domains: a.Domains, Requeue: a.Requeue, Mode: a.Mode,
			Safety: a.Safety, Groups: a.Groups})
	}
	return s.pub.Publish(ctx, reqs...)
}

// AddEndpoints adds the directory lookup endpoint (used by diff to tell
// accounts removed from the directory from those out of the sync's scope).
func (s *Service) AddEndpoints(svc micro.Service) error {
	return svc.AddEndpoint("directory-lookup", natsapi.Handler(func(ctx context.Context, r natsapi.LookupRequest) (natsapi.LookupResponse, error) {
		cfg, ok := s.domains[r.Domain]
		if !ok {
			return natsapi.LookupResponse{}, fmt.Errorf("domain %q is not configured on this job server", r.Domain)
		}
		dir, err := s.dial(ctx, cfg)
		if err != nil {
			return natsapi.LookupResponse{}, err
		}
		defer dir.Close()
		found, err := dir.Lookup(ctx, r.IDs)
		if err != nil || len(found) == 0 {
			return natsapi.LookupResponse{Found: found}, err
		}
		ids := make([]string, 0, len(found))
		for id := range found {
			ids = append(ids, id)
		}
		in, err := dir.InScope(ctx, ids)
		resp := natsapi.LookupResponse{Found: found}
		for _, id := range ids {
			if in[id] {
				resp.InScope = append(resp.InScope, id)
			}
		}
		return resp, err
	}), micro.WithEndpointSubject(natsapi.SubjectDirectoryLookup))
}

package notifier

import (
	"context"
	"errors"
	"fmt"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/alerts"
	"github.com/adsync/adsync/internal/infra/typedkv"
)

// alert is one occurrence of something a rule may name.
type alert struct {
	Kind, Job, Domain, RunID string
	// Occurrence tells this occurrence from the next of the same key
	// (the run id; for job.stale the last good run's time).
	Occurrence  string
	Title, Text string
	Link        string
	// Resolvable alerts stay open until resolved; the others (dead
	// letters) only fire.
	Resolvable bool
}

// key is the alert's identity while it is open: one per kind, job and
// domain.
func (a alert) key() string { return a.Kind + "." + keyPart(a.Job) + "." + keyPart(a.Domain) }

func keyPart(s string) string {
	if s == "" {
		return "_"
	}
	return s
}

// id is the alert's idempotency key: the same on every channel, every
// delivery attempt and its resolution.
func (a alert) id() string { return a.Kind + ":" + a.Job + ":" + a.Domain + ":" + a.Occurrence }

// fire notifies the rules' channels of an alert, unless the same key is
// open already (it fired and was not resolved: once per occurrence, no
// repeats while it lasts). The notifications are published before the
// alert is recorded as open, so that a crash in between sends them again
// (de-duplicated by message id) rather than losing them.
func (s *Service) fire(ctx context.Context, a alert) error {
	if a.Resolvable {
		open, rev, err := alerts.Bucket(s.stores.Alerts).Get(ctx, a.key())
		if open != nil || rev != 0 { // open already (even if unreadable)
			return nil
		}
		if err != nil {
			return err
		}
	}
	if err := s.publish(ctx, a, events.AlertFiring); err != nil {
		return err
	}
	if !a.Resolvable {
		return nil
	}
	open := alerts.Open{ID: a.id(), Kind: a.Kind, Job: a.Job, Domain: a.Domain, RunID: a.RunID, Title: a.Title,
		FiredAt: s.cfg.Now().UTC().Format("2006-01-02T15:04:05Z")}
	if _, err := alerts.Bucket(s.stores.Alerts).Write(ctx, a.key(), open, 0); err != nil && !errors.Is(err, typedkv.ErrConflict) {
		return err
	}
	s.log.Info("alert fired", "kind", a.Kind, "job", a.Job, "domain", a.Domain, "id", a.id())
	return nil
}

// resolve notifies that an open alert is over, and closes it.
func (s *Service) resolve(ctx context.Context, kind, job, domain, runID string) error {
	key := alert{Kind: kind, Job: job, Domain: domain}.key()
	bucket := alerts.Bucket(s.stores.Alerts)
	o, rev, err := bucket.Get(ctx, key)
	if errors.Is(err, typedkv.ErrUnreadable) {
		return bucket.Delete(ctx, key, 0)
	}
	if err != nil || o == nil {
		return err
	}
	where := job
	if domain != "" {
		where += ", domain " + domain
	}
	a := alert{Kind: kind, Job: job, Domain: domain, RunID: runID, Title: "resolved: " + o.Title,
		Text: fmt.Sprintf("Resolved: %s (job %s). Run %s completed; the alert fired at %s is over.", o.Title, where, runID, o.FiredAt),
		Link: s.link("/runs/" + runID)}
	if err := s.publishID(ctx, a, o.ID, events.AlertResolved); err != nil {
		return err
	}
	s.log.Info("alert resolved", "kind", kind, "job", job, "domain", domain, "id", o.ID)
	return bucket.Delete(ctx, key, rev)
}

func (s *Service) publish(ctx context.Context, a alert, state string) error {
	return s.publishID(ctx, a, a.id(), state)
}

// publishID publishes the alert once per channel of every rule that
// names it.
func (s *Service) publishID(ctx context.Context, a alert, id, state string) error {
	sent := map[string]bool{}
	for _, r := range s.cfg.Rules {
		if !r.matches(a.Kind, a.Job) {
			continue
		}
		for _, ch := range r.Channels {
			if sent[ch] {
				continue
			}
			sent[ch] = true
			n := &events.NotificationRequested{ID: id, Channel: ch, Kind: a.Kind, State: state, Job: a.Job, Domain: a.Domain,
				RunID: a.RunID, Title: a.Title, Text: a.Text, Link: a.Link, At: s.cfg.Now().UTC().Format("2006-01-02T15:04:05Z")}
			if err := s.pub.Publish(ctx, n); err != nil {
				return fmt.Errorf("publish the %s alert for %s: %w", a.Kind, ch, err)
			}
		}
	}
	return nil
}

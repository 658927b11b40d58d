package directoryreader

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/admission"
	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/internal/infra/metrics"
	"github.com/adsync/adsync/internal/ldapdir"
)

// publishWindow is how many page events may await JetStream's ack while
// the read goes on. An event of 2,500 entries goes out about every 25 ms
// at 100,000 entries/s, so 4 hide acks of up to 100 ms; each one in flight
// is kept in memory until acked, and 8 only raised the reader's peak RSS
// (docs/performance.md).
const publishWindow = 4

// changedAhead is how many changed users a delta read holds while it reads
// the users, to find departures among them afterwards without searching
// again (a scan of every user on Samba, about 20 ms at 10,000). With more
// the search is done again after the read, keeping only the users the read
// did not return.
const changedAhead = 10_000

// HandleRequested reads one domain for one attempt of a run.
func (s *Service) HandleRequested(ctx context.Context, r *events.DirectoryRequested) error {
	attempt := bus.DeliveryFrom(ctx).Attempt
	log := bus.Logger(ctx).With("attempt", attempt)
	cfg, ok := s.domains[r.Domain]
	if !ok {
		return s.fail(ctx, r, attempt, 0, fmt.Errorf("domain %q is not configured on this job server", r.Domain), false)
	}
	if attempt > 1 {
		// Guard admitted the first attempt; a requeued one (or one
		// redelivered after a crash) passes the same checks again.
		refused, err := s.admission.Refusals(ctx, r.Job)
		if err != nil {
			return fmt.Errorf("admission checks before attempt %d of %s: %w", attempt, r.Domain, err)
		}
		if len(refused) > 0 {
			return s.refuse(ctx, r, attempt, refused)
		}
	}
	// started stamps the events (adsync's clock, injected); t0 times the
	// read for the log and metrics (a monotonic reading).
	started, t0 := s.cfg.Now().UTC(), time.Now()
	log.Info("reading directory", "url", cfg.URL, "base_dn", cfg.BaseDN)
	dir, err := s.dial(ctx, cfg)
	if err != nil {
		return s.fail(ctx, r, attempt, 0, err, ldapdir.IsTransient(err))
	}
	defer dir.Close()
	log.Debug("connected", "seconds", time.Since(t0).Seconds())

	// The watermark first: whatever changes from now on is seen by the
	// next delta read.
	mark, err := dir.Mark(ctx, cfg.DeltaOverlap)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return s.fail(ctx, r, attempt, 0, err, ldapdir.IsTransient(err))
	}
	// Groups next (only groups are held in memory), in the background
	// while the users start streaming: a user's nested memberships are
	// resolved from its memberOf once the groups are in. The plan asks for
	// them first if a group changed since the last read. The searches on
	// this connection take turns (the users have one of their own): a
	// server may keep one paged search per connection, as OpenLDAP does.
	log.Debug("watermark taken", "seconds", time.Since(t0).Seconds())
	var groups *background[*ldapdir.GroupGraph]
	readGroups := func() *background[*ldapdir.GroupGraph] {
		if groups == nil {
			groups = inBackground(func() (*ldapdir.GroupGraph, error) {
				g, err := dir.ReadGroups(ctx, r.Groups)
				if err == nil {
					log.Debug("groups read", "groups", g.Groups(), "seconds", time.Since(t0).Seconds())
				}
				return g, err
			})
		}
		return groups
	}
	rp, err := s.plan(ctx, dir, cfg, r, readGroups, mark)
	mode, mark, fullReason, prev := rp.mode, rp.mark, rp.fullReason, rp.prev
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return s.fail(ctx, r, attempt, 0, err, ldapdir.IsTransient(err))
	}
	if fullReason != "" {
		log.Info("full read", "why", fullReason)
	}
	if rp.sweep != "" {
		log.Info("delta read lists every user in scope", "why", rp.sweep)
	}
	log.Debug("read planned", "mode", mode, "seconds", time.Since(t0).Seconds())
	readGroups()
	var deleted *background[[]string]
	var changed *background[[]ldapdir.Departure]
	if mode == events.ModeDelta {
		// The users deleted since the last read, after the groups.
		deleted = inBackground(func() ([]string, error) {
			if _, err := groups.wait(ctx); err != nil {
				return nil, nil // the read fails with the groups' error
			}
			return dir.Deleted(ctx, *prev)
		})
		// Then the users changed anywhere, where departures are looked
		// for once the read is done (readScope).
		changed = inBackground(func() ([]ldapdir.Departure, error) {
			if _, err := deleted.wait(ctx); err != nil {
				return nil, nil // the read fails with that error
			}
			return dir.ChangedUsers(ctx, func(string) bool { return true }, changedAhead)
		})
	}
	pg := &pager{s: s, r: r, attempt: attempt, out: s.pub.NewStream(publishWindow), deleted: deleted}
	if mode == events.ModeDelta {
		pg.inRead = map[string]struct{}{}
	}
	stats, graph, err := pg.readUsers(ctx, dir, groups)
	out, seq, gone := pg.out, pg.seq, pg.gone
	var scope scopeRead
	if err == nil && mode == events.ModeDelta {
		scope, err = s.readScope(ctx, dir, r, attempt, rp, out, seq, changed, pg.inRead)
		seq = scope.seq
	}
	if err == nil {
		if err = out.Flush(ctx); err != nil { // every page stored before the word that the read is complete
			err = &publishError{err}
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err() // shutting down: redelivered to another reader
		}
		var pe *publishError
		if errors.As(err, &pe) {
			// The bus, not the directory, failed (a stream leader lost
			// with a publication): read again on redelivery.
			return busError(err)
		}
		return s.fail(ctx, r, attempt, seq, err, ldapdir.IsTransient(err))
	}
	// The next delta read looks for expired accounts once the earliest
	// expiry this read saw has passed (ldapdir/expiry.go).
	mark.ExpiriesKnown, mark.NextExpiry = stats.ExpiriesKnown, stats.NextExpiry
	done := &events.DirectoryCompleted{
		Run: r.Run, Domain: r.Domain, Domains: r.Domains, Attempt: attempt, Pages: seq,
		Entries: stats.Entries, Skipped: stats.Skipped, SkippedDNs: skipped(stats),
		StartedAt: started, FinishedAt: s.cfg.Now().UTC(), Mode: mode, Safety: r.Safety,
		Watermark: &mark, FullReason: fullReason, Swept: rp.sweep != "", InScope: scope.inScope,
	}
	if err := s.pub.Publish(ctx, done); err != nil {
		return err
	}
	metrics.EntriesRead.WithLabelValues(r.Domain, string(mode)).Add(float64(stats.Entries))
	metrics.PhaseSeconds.WithLabelValues("read").Observe(time.Since(t0).Seconds())
	log.Info("directory read", "mode", mode, "entries", stats.Entries, "deleted", len(gone), "left_scope", scope.left, "swept", scope.inScope, "groups", graph.Groups(), "pages", seq, "skipped", stats.Skipped,
		"looked_for_expired", stats.LookedForExpired, "next_expiry", nextExpiry(mark), "seconds", time.Since(t0).Seconds())
	return nil
}

// fail publishes an attempt's failure and, for a transient failure of a job
// with requeue on and attempts left, asks JetStream to redeliver the
// request after the job's back-off.
func (s *Service) fail(ctx context.Context, r *events.DirectoryRequested, attempt, pages int, cause error, transient bool) error {
	policy := r.Requeue
	retry := transient && policy.Enabled && attempt < policy.MaxAttempts
	f := &events.DirectoryFailed{
		Run: r.Run, Domain: r.Domain, Domains: r.Domains, Attempt: attempt, Reason: cause.Error(),
		Transient: transient, WillRetry: retry, PagesRead: pages, FailedAt: s.cfg.Now().UTC(),
	}
	var delay time.Duration
	if policy.Enabled {
		f.MaxAttempts = policy.MaxAttempts
	}
	if retry {
		delay = policy.Delay(attempt)
		f.RetryIn = delay.String()
	}
	if err := s.pub.Publish(ctx, f); err != nil {
		return err
	}
	log := bus.Logger(ctx).With("attempt", attempt, "transient", transient)
	if retry {
		log.Warn("directory read failed; requeued", "err", cause, "retry_in", delay.String(), "max_attempts", policy.MaxAttempts)
		return bus.RetryAfter(delay, fmt.Errorf("attempt %d of %s failed: %w", attempt, r.Domain, cause))
	}
	log.Error("directory read failed", "err", cause)
	return nil
}

// refuse ends the domain's run, without reading, when an attempt after the
// first no longer passes the admission checks: failed, never retried, with
// every reason.
func (s *Service) refuse(ctx context.Context, r *events.DirectoryRequested, attempt int, refused []admission.Refusal) error {
	f := &events.DirectoryFailed{
		Run: r.Run, Domain: r.Domain, Domains: r.Domains, Attempt: attempt,
		Reason:   fmt.Sprintf("attempt %d refused, nothing read: %s", attempt, admission.Join(refused)),
		FailedAt: s.cfg.Now().UTC(), Refused: admission.Codes(refused),
	}
	if r.Requeue.Enabled {
		f.MaxAttempts = r.Requeue.MaxAttempts
	}
	if err := s.pub.Publish(ctx, f); err != nil {
		return err
	}
	bus.Logger(ctx).Warn("requeued attempt refused; the domain's run ends as failed", "attempt", attempt, "reasons", admission.Join(refused))
	return nil
}

func skipped(st ldapdir.Stats) []events.Skipped {
	if len(st.SkippedSample) == 0 {
		return nil
	}
	out := make([]events.Skipped, 0, len(st.SkippedSample))
	for _, s := range st.SkippedSample {
		out = append(out, events.Skipped{DN: s.DN, Reason: s.Reason})
	}
	return out
}

// entrySize estimates an entry's encoded size.
func entrySize(e events.DirectoryEntry) int {
	n := 200 + len(e.ID) + len(e.DN) + len(e.Username) + len(e.UPN) + len(e.Email) + len(e.DisplayName) + len(e.GivenName) + len(e.Surname)
	for _, g := range e.Groups {
		n += len(g) + 4
	}
	for _, g := range e.GroupRefs {
		n += len(g.ID) + len(g.Name) + len(g.DN) + 30
	}
	return n
}

// readPlan is what plan decided.
type readPlan struct {
	mode events.Mode
	// mark is the watermark the next delta read will start from.
	mark events.Watermark
	// fullReason says why a full read was done when the job allowed a
	// delta read.
	fullReason string
	// prev is the watermark a delta read starts from.
	prev *events.Watermark
	// sweep says why a delta read also lists every user in scope
	// (SweepIDs); "" when it does not need to.
	sweep string
}

// plan decides between a full and a delta read, completes the watermark the
// next delta read will start from (taken before anything was read), and
// for a delta read sets the filter, returns the watermark of the last read
// (the users deleted since then are read while the changed ones are:
// background) and says whether the read must list every user in scope.
func (s *Service) plan(ctx context.Context, dir Directory, cfg ldapdir.Config, r *events.DirectoryRequested, readGroups func() *background[*ldapdir.GroupGraph], mark events.Watermark) (readPlan, error) {
	mark.Settings = fingerprint(cfg, r.Groups)
	now := s.cfg.Now().UTC()
	full := func(why string) (readPlan, error) {
		mark.FullAt, mark.DeltasSinceFull = now, 0
		return readPlan{mode: events.ModeFull, mark: mark, fullReason: why}, nil
	}
	if r.Mode == events.ModeFull {
		return full("")
	}
	prev, err := s.marks.Get(ctx, r.Domain)
	if err != nil {
		return readPlan{mark: mark}, err
	}
	if ok, why := ldapdir.Usable(prev, mark); !ok {
		return full(why)
	}
	if prev.Settings != mark.Settings {
		return full("the domain's settings or the job's group scope changed since the last read")
	}
	if now.Sub(prev.FullAt) >= cfg.FullEvery || prev.DeltasSinceFull >= cfg.FullAfterDeltas {
		return full(fmt.Sprintf("a full read is due (one every %s or %d delta reads, a safety net)", cfg.FullEvery, cfg.FullAfterDeltas))
	}
	changed, err := dir.GroupsChangedSince(ctx, *prev)
	if err != nil {
		return readPlan{mark: mark}, err
	}
	if len(changed) > 0 {
		// Whether a changed group matters takes the groups (usually none
		// changed, and the users need not wait for them).
		graph, err := readGroups().wait(ctx)
		if err != nil {
			return readPlan{mark: mark}, err
		}
		for _, dn := range changed {
			if graph.Relevant(dn) {
				return full(fmt.Sprintf("group %s changed since the last read: its members' memberships need a full read (scope the job's groups with --groups-base-dn to make this rarer)", dn))
			}
		}
	}
	// A user enters or leaves a scope that a group decides (a user
	// filter on memberOf) without changing: the group changes.
	scope, err := dir.ScopeGroupsChanged(ctx, *prev)
	if err != nil {
		return readPlan{mark: mark}, err
	}
	if len(scope) > 0 {
		return full(fmt.Sprintf("group %s, which the user filter names, changed since the last read: users may have entered or left the scope", scope[0]))
	}
	p := readPlan{mode: events.ModeDelta, mark: mark, prev: prev}
	if cfg.Type == ldapdir.GenericLDAP {
		p.sweep = "the directory keeps no record of deleted users"
	}
	dir.ChangedSince(*prev)
	p.mark.FullAt, p.mark.DeltasSinceFull = prev.FullAt, prev.DeltasSinceFull+1
	return p, nil
}

// fingerprint sums up what a read selects and how it maps entries.
func fingerprint(cfg ldapdir.Config, scope events.Scope) string {
	h := sha256.New()
	fmt.Fprintf(h, "%q %q %q %q %+v %q %q %q %q", cfg.BaseDN, cfg.UserFilter, cfg.DisabledFilter, cfg.Type, cfg.Attributes,
		cfg.GroupBaseDN, cfg.GroupFilter, scope.BaseDN, scope.Filter)
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// publishError marks a failure to publish, as opposed to a failure of the
// directory.
type publishError struct{ err error }

func (e *publishError) Error() string { return e.err.Error() }
func (e *publishError) Unwrap() error { return e.err }

// busError asks for the request to be delivered again a little later.
func busError(err error) error {
	return bus.RetryAfter(2*time.Second, fmt.Errorf("the bus failed during the read; it will be read again: %w", err))
}

// nextExpiry says, for the log, from when the next delta read looks for
// expired users (ldapdir/expiry.go).
func nextExpiry(w events.Watermark) string {
	switch {
	case !w.ExpiriesKnown:
		return "unknown"
	case w.NextExpiry.IsZero():
		return "none"
	}
	return w.NextExpiry.Format(time.RFC3339)
}

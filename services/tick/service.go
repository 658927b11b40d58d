// Package tick is the tick service: on a job server it watches the jobs
// bucket and publishes sync.requested when a job's scheduled slot is due.
// The slot is part of the run id and so of the message id: several tick
// replicas publishing the same slot start one run (JetStream de-duplicates).
package tick

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/jobs"
)

// Config of the tick service.
type Config struct {
	// Interval between checks for due slots; default 1s.
	Interval time.Duration
	Now      func() time.Time
}

// Publisher publishes events (the bus).
type Publisher interface {
	Publish(ctx context.Context, evs ...events.Event) error
}

// Service is the tick service.
type Service struct {
	cfg   Config
	jobs  jetstream.KeyValue
	ticks jetstream.KeyValue
	pub   Publisher
	log   *slog.Logger

	mu        sync.Mutex
	known     map[string]*jobs.Job
	lastFired map[string]time.Time
}

// New returns the tick service.
func New(cfg Config, jobsKV, ticksKV jetstream.KeyValue, pub Publisher, log *slog.Logger) *Service {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg, jobs: jobsKV, ticks: ticksKV, pub: pub, log: log.With("service", "tick"),
		known: map[string]*jobs.Job{}, lastFired: map[string]time.Time{}}
}

// SlotRunID is the run id of a job's scheduled slot.
func SlotRunID(job string, slot time.Time) string {
	return job + "-" + slot.UTC().Format("20060102T150405Z")
}

// Run watches the jobs and starts due slots until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	jw, err := s.jobs.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("tick: watch jobs: %w", err)
	}
	defer jw.Stop()
	tw, err := s.ticks.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("tick: watch slots: %w", err)
	}
	defer tw.Stop()
	// Know the slots already started before looking at any job, so that a
	// restarted tick does not start an old slot again.
	for e := range tw.Updates() {
		if e == nil {
			break
		}
		s.slotRecorded(e)
	}
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-jw.Updates():
			if !ok {
				if ctx.Err() != nil {
					return nil // shutting down
				}
				return errors.New("tick: jobs watch ended")
			}
			if e != nil {
				s.jobChanged(e)
				s.fireDue(ctx) // a new or changed job takes effect at once
			}
		case e, ok := <-tw.Updates():
			if !ok {
				if ctx.Err() != nil {
					return nil // shutting down
				}
				return errors.New("tick: slots watch ended")
			}
			if e != nil {
				s.slotRecorded(e)
			}
		case <-t.C:
			s.fireDue(ctx)
		}
	}
}

func (s *Service) slotRecorded(e jetstream.KeyValueEntry) {
	if e.Operation() != jetstream.KeyValuePut {
		return
	}
	slot, err := time.Parse(time.RFC3339, string(e.Value()))
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if slot.After(s.lastFired[e.Key()]) {
		s.lastFired[e.Key()] = slot
	}
}

func (s *Service) jobGone(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.known, name)
}

func (s *Service) jobChanged(e jetstream.KeyValueEntry) {
	name := strings.TrimPrefix(e.Key(), "job.")
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.Operation() != jetstream.KeyValuePut {
		delete(s.known, name)
		return
	}
	j, err := jobs.Decode(e.Value())
	if err != nil {
		s.log.Error("ignoring unreadable job", "job", name, "err", err)
		delete(s.known, name)
		return
	}
	s.known[name] = j
}

// fireDue publishes sync.requested for every enabled job whose slot is due.
func (s *Service) fireDue(ctx context.Context) {
	now := s.cfg.Now()
	type due struct {
		job  *jobs.Job
		slot time.Time
	}
	var dues []due
	s.mu.Lock()
	for _, j := range s.known {
		if !j.Enabled {
			continue
		}
		if slot, ok := j.Schedule.Due(j.ScheduleSince, s.lastFired[j.Name], now); ok {
			dues = append(dues, due{j, slot})
		}
	}
	s.mu.Unlock()
	for _, d := range dues {
		if err := s.fire(ctx, d.job, d.slot); err != nil {
			s.log.Error("cannot start scheduled run", "job", d.job.Name, "slot", d.slot, "err", err)
		}
	}
}

func (s *Service) fire(ctx context.Context, j *jobs.Job, slot time.Time) error {
	// Decide on the stored job, not on the watch's copy: a job deleted,
	// disabled or rescheduled a moment ago must not start.
	e, err := s.jobs.Get(ctx, "job."+j.Name)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		s.jobGone(j.Name)
		return nil
	}
	if err != nil {
		return fmt.Errorf("read job: %w", err)
	}
	fresh, err := jobs.Decode(e.Value())
	if err != nil {
		return err
	}
	s.mu.Lock()
	last := s.lastFired[j.Name]
	s.mu.Unlock()
	if due, ok := fresh.Schedule.Due(fresh.ScheduleSince, last, s.cfg.Now()); !fresh.Enabled || !ok || !due.Equal(slot) {
		return nil
	}
	runID := SlotRunID(j.Name, slot)
	ev := &events.SyncRequested{
		Run:  events.Run{RunID: runID, Job: j.Name, Trigger: events.TriggerSchedule, RequestedAt: slot.UTC()},
		Slot: slot.UTC().Format(time.RFC3339),
	}
	if err := s.pub.Publish(ctx, ev); err != nil {
		return err
	}
	s.mu.Lock()
	s.lastFired[j.Name] = slot
	s.mu.Unlock()
	// Remember the slot across restarts (beyond the de-duplication window).
	if _, err := s.ticks.Put(ctx, j.Name, []byte(slot.UTC().Format(time.RFC3339))); err != nil {
		return fmt.Errorf("record slot: %w", err)
	}
	s.log.Info("scheduled run requested", "job", j.Name, "run_id", runID, "slot", ev.Slot)
	return nil
}

package console

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/internal/natsapi"
	"github.com/adsync/adsync/internal/runs"
	"github.com/adsync/adsync/services/account-writer/accounts"
)

func (c *Console) runRoutes(r chi.Router) {
	r.Get("/runs", c.allRunsPage)
	r.Get("/runs/{id}", c.runPage)
	r.Get("/runs/{id}/live", c.runLive)
	r.Get("/held", c.heldPage)
	r.Post("/runs/{id}/approve", c.require("operator", c.decide(events.DecisionApprove)))
	r.Post("/runs/{id}/discard", c.require("operator", c.decide(events.DecisionDiscard)))
}

// runView is a run's page: its summary (once it ended), its report, and
// the change filter of the report's listing.
type runView struct {
	RunID, Job string
	Summary    *runs.Summary
	Report     *accounts.RunReport
	Changes    []accounts.Change
	Op         string
	Next       int64
	Progress   *progress
}

func (c *Console) findRun(ctx context.Context, job, runID string) *runs.Summary {
	if job == "" {
		return nil
	}
	h, err := runs.History(ctx, c.cfg.Ops.JS, job)
	if err != nil {
		return nil
	}
	for i := range h {
		if h[i].RunID == runID {
			return &h[i]
		}
	}
	return nil
}

// runIDPattern is a run id: the job, the slot or request time, and for a
// run requested by hand a random suffix (tick.SlotRunID, jobs.ManualRunID).
var runIDPattern = regexp.MustCompile(`^(.+)-\d{8}T\d{6}Z(-[0-9a-f]+)?$`)

// jobOfRun reads a run id's job.
func jobOfRun(runID string) string {
	if m := runIDPattern.FindStringSubmatch(runID); m != nil {
		return m[1]
	}
	return ""
}

func (c *Console) runPage(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	v := runView{RunID: id, Job: jobOfRun(id), Op: r.URL.Query().Get("op")}
	v.Summary = c.findRun(r.Context(), v.Job, id)
	if v.Summary == nil || v.Summary.FinishedAt == nil {
		v.Progress = progressOf(id, v.Summary)
	}
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	rep, err := natsapi.Request[*accounts.RunReport](r.Context(), c.cfg.Ops.NC, natsapi.SubjectRunReport, "account-writer",
		natsapi.RunReportRequest{RunID: id, After: after, Limit: 200, Op: v.Op})
	if err == nil && rep != nil && len(rep.Domains) > 0 {
		v.Report, v.Next, v.Changes = rep, rep.Next, rep.Changes
	}
	if v.Summary == nil && v.Report == nil && v.Progress == nil {
		c.problem(w, r, http.StatusNotFound, "no run "+id)
		return
	}
	c.render(w, r, http.StatusOK, "run", "Run "+id, v)
}

// progressOf is where a run stands by its history (nil: not in it yet).
func progressOf(id string, s *runs.Summary) *progress {
	p := &progress{RunID: id, Phase: "requested", Domains: map[string]*domainProgress{}}
	if s == nil {
		return p
	}
	p.Phase = s.Outcome // requested or running
	for _, f := range s.Failures {
		d := p.domain(f.Domain)
		d.Attempt, d.Failure, d.Phase = f.Attempt, fmt.Sprintf("attempt %d failed: %s", f.Attempt, f.Reason), "failed"
		if f.WillRetry {
			d.Phase = "requeued, next attempt in " + f.RetryIn
		}
	}
	if s.FinishedAt != nil {
		p.Phase, p.Outcome, p.Reasons, p.Done = "finished", s.Outcome, s.Reasons, true
		for _, d := range s.Domains {
			dp := p.domain(d.Domain)
			dp.Phase, dp.Outcome, dp.Planned, dp.Entries = "finished", d.Outcome, d.Counts, d.Entries
		}
	}
	return p
}

// progress is a run in progress, per domain, as its events tell it.
type progress struct {
	RunID, Phase, Outcome string
	Reasons               []string
	Domains               map[string]*domainProgress
	Order                 []string
	Done                  bool
}

type domainProgress struct {
	Name, Phase string
	Pages       int
	Entries     int
	Attempt     int
	Failure     string
	Planned     events.Counts
	Outcome     string
}

func (p *progress) domain(name string) *domainProgress {
	d, ok := p.Domains[name]
	if !ok {
		d = &domainProgress{Name: name, Phase: "waiting"}
		p.Domains[name] = d
		p.Order = append(p.Order, name)
	}
	return d
}

// apply takes one event of the run into account.
func (p *progress) apply(name string, data []byte) {
	var head struct {
		events.Run
		Domain  string `json:"domain"`
		Attempt int    `json:"attempt"`
	}
	if json.Unmarshal(data, &head) != nil || head.RunID != p.RunID {
		return
	}
	switch name {
	case (events.SyncApproved{}).EventName():
		var e events.SyncApproved
		_ = json.Unmarshal(data, &e)
		p.Phase = "approved"
		for _, d := range e.Domains {
			p.domain(d)
		}
	case (events.SyncRejected{}).EventName():
		var e events.SyncRejected
		_ = json.Unmarshal(data, &e)
		p.Phase, p.Outcome, p.Reasons, p.Done = "rejected", events.OutcomeRejected, e.Reasons, true
	case (events.DirectoryRequested{}).EventName():
		p.Phase = "reading"
		d := p.domain(head.Domain)
		d.Phase, d.Attempt = "reading the directory", head.Attempt
	case (events.DirectoryPage{}).EventName():
		var e struct {
			Entries []json.RawMessage `json:"entries"`
		}
		_ = json.Unmarshal(data, &e)
		d := p.domain(head.Domain)
		d.Phase = "reading the directory"
		d.Pages++
		d.Entries += len(e.Entries)
	case (events.DirectoryCompleted{}).EventName():
		var e events.DirectoryCompleted
		_ = json.Unmarshal(data, &e)
		d := p.domain(head.Domain)
		d.Phase, d.Pages, d.Entries = "working out the changes", e.Pages, e.Entries
	case (events.DirectoryFailed{}).EventName():
		var e events.DirectoryFailed
		_ = json.Unmarshal(data, &e)
		d := p.domain(head.Domain)
		d.Failure = fmt.Sprintf("attempt %d failed: %s", e.Attempt, e.Reason)
		d.Phase = "failed"
		if e.WillRetry {
			d.Phase = "requeued, next attempt in " + e.RetryIn
		}
	case (events.ChangesCompleted{}).EventName():
		var e events.ChangesCompleted
		_ = json.Unmarshal(data, &e)
		d := p.domain(head.Domain)
		d.Phase, d.Planned, d.Outcome = "applying the changes", e.Planned, e.Outcome
	case (events.SyncCompleted{}).EventName():
		var e events.SyncCompleted
		_ = json.Unmarshal(data, &e)
		p.Phase, p.Outcome, p.Reasons, p.Done = "finished", e.Outcome, e.Reasons, true
		for _, r := range e.Domains {
			d := p.domain(r.Domain)
			d.Phase, d.Outcome, d.Planned = "finished", r.Outcome, r.Counts
			if r.Entries > 0 {
				d.Entries = r.Entries
			}
		}
	}
}

// runLive streams the run's progress as server-sent events: a "progress"
// fragment after each of its events, and "done" when it ended. It follows
// the pipeline's events as they are published (as `adsync watch` does);
// what came before is in the page already.
func (c *Console) runLive(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	fl, ok := w.(http.Flusher)
	if !ok {
		c.problem(w, r, http.StatusInternalServerError, "streaming is not supported here")
		return
	}
	msgs := make(chan *nats.Msg, 256)
	sub, err := c.cfg.Ops.NC.ChanSubscribe(events.SubjectPrefix+"*.*.v1", msgs)
	if err != nil {
		c.problem(w, r, http.StatusBadGateway, err.Error())
		return
	}
	defer func() { _ = sub.Unsubscribe() }()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	p := progressOf(id, c.findRun(r.Context(), jobOfRun(id), id))
	send := func(event string) bool {
		var b strings.Builder
		if err := c.tmpl.ExecuteTemplate(&b, "progress", p); err != nil {
			return false
		}
		fmt.Fprintf(w, "event: %s\n", event)
		for _, line := range strings.Split(b.String(), "\n") {
			fmt.Fprintf(w, "data: %s\n", line)
		}
		fmt.Fprint(w, "\n")
		fl.Flush()
		return true
	}
	send("progress")
	if p.Done { // it ended before the page connected
		send("done")
		return
	}
	keep := time.NewTicker(15 * time.Second)
	defer keep.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-keep.C:
			fmt.Fprint(w, ": keep-alive\n\n")
			fl.Flush()
		case m := <-msgs:
			// Run events' message ids name their run: other runs' pages (a
			// thousand entries each) are not decoded at all.
			if mid := m.Header.Get(jetstream.MsgIDHeader); mid != "" && !strings.Contains(mid, ":"+id) {
				continue
			}
			p.apply(bus.NameFromSubject(m.Subject), m.Data)
			if !send("progress") {
				return
			}
			if p.Done {
				send("done")
				return
			}
		}
	}
}

func (c *Console) heldPage(w http.ResponseWriter, r *http.Request) {
	list, err := c.cfg.Ops.Holds.List(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "held", "Held plans", list)
}

func (c *Console) decide(decision string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := chi.URLParam(r, "id")
		if _, err := c.cfg.Ops.DecidePlan(r.Context(), actor(r), id, r.PostFormValue("domain"), decision); err != nil {
			c.fail(w, r, err)
			return
		}
		what := "approved: account-writer applies exactly the plan that was held"
		if decision == events.DecisionDiscard {
			what = "discarded: nothing of it is applied"
		}
		redirect(w, r, "/held?done="+urlText("The held plan of run "+id+" is "+what+"."))
	}
}

// allRunsPage is every job's runs, newest first.
func (c *Console) allRunsPage(w http.ResponseWriter, r *http.Request) {
	list, err := c.cfg.Ops.Jobs.List(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	history, err := runs.Histories(r.Context(), c.cfg.Ops.JS)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	var all []runs.Summary
	for _, j := range list {
		all = append(all, history[j.Name]...)
	}
	slices.SortFunc(all, func(a, b runs.Summary) int { return b.RequestedAt.Compare(a.RequestedAt) })
	c.render(w, r, http.StatusOK, "jobruns", "Runs of every job", struct {
		Job  string
		Runs []runs.Summary
	}{"", all})
}

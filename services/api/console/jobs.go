package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/admin"
	"github.com/adsync/adsync/internal/jobs"
	"github.com/adsync/adsync/internal/runs"
)

func (c *Console) jobRoutes(r chi.Router) {
	r.Get("/jobs", c.jobsPage)
	r.Get("/jobs/new", c.require("admin", c.newJobPage))
	r.Post("/jobs", c.require("admin", c.createJob))
	r.Get("/jobs/{name}/edit", c.require("admin", c.editJobPage))
	r.Post("/jobs/{name}", c.require("admin", c.updateJob))
	r.Post("/jobs/{name}/run", c.require("operator", c.runJob))
	r.Post("/jobs/{name}/enable", c.require("admin", c.switchJob(true)))
	r.Post("/jobs/{name}/disable", c.require("admin", c.switchJob(false)))
	r.Post("/jobs/{name}/delete", c.require("admin", c.deleteJob))
	r.Get("/jobs/{name}/runs", c.jobRunsPage)
}

// jobRow is a job on the Scheduled Jobs page.
type jobRow struct {
	admin.JobView
	Domains, Schedule string
	Last              *runs.Summary
}

func scheduleText(j *jobs.Job) string {
	switch {
	case j.Schedule.Every != 0:
		when := "first run immediately"
		if j.Schedule.RunWhen == jobs.RunScheduled {
			when = "first run scheduled"
		}
		return "Time span: every " + spanText(j.Schedule.Every.D()) + " (" + when + ")"
	case j.Schedule.Cron != "":
		return fmt.Sprintf("Cron %q (%s)", j.Schedule.Cron, j.Schedule.Zone())
	}
	return "Manual runs only"
}

func spanText(d time.Duration) string {
	days, rest := int(d/(24*time.Hour)), d%(24*time.Hour)
	var parts []string
	if days > 0 {
		parts = append(parts, plural(days, "day"))
	}
	if h := int(rest / time.Hour); h > 0 {
		parts = append(parts, plural(h, "hour"))
	}
	if m := int(rest % time.Hour / time.Minute); m > 0 {
		parts = append(parts, plural(m, "minute"))
	}
	return strings.Join(parts, " ")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

func (c *Console) jobsPage(w http.ResponseWriter, r *http.Request) {
	views, err := c.cfg.Ops.ViewJobs(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	// One read of the run history for every job; without it the page
	// still lists the jobs, each "never run".
	history, _ := runs.Histories(r.Context(), c.cfg.Ops.JS)
	rows := make([]jobRow, 0, len(views))
	for _, v := range views {
		row := jobRow{JobView: v, Schedule: scheduleText(v.Job), Domains: "All domains"}
		if !v.AllDomains {
			row.Domains = strings.Join(v.Domains, ", ")
		}
		if h := history[v.Name]; len(h) > 0 {
			row.Last = &h[0]
		}
		rows = append(rows, row)
	}
	c.render(w, r, http.StatusOK, "jobs", "Scheduled Jobs", rows)
}

// jobForm is the New AD Sync Job dialog's fields (and edit's).
type jobForm struct {
	Editing                               bool
	Name                                  string
	Enabled, AllDomains, Requeue          bool
	Domains                               map[string]bool
	Configured                            []string
	Attempts                              int
	FirstDelay, LongestDelay              string
	Calendar                              string // span, cron, manual
	RunWhen, Start                        string
	Days, Hours, Minutes                  int
	Cron, TimeZone                        string
	MaxDeactivations, MaxPercent, MaxDrop int
	Mode                                  string
	GroupsBase, GroupsFilter              string
	Error                                 string
	SSO                                   []string
}

func (c *Console) blankForm(r *http.Request) jobForm {
	f := jobForm{Enabled: true, AllDomains: true, Requeue: true, Domains: map[string]bool{}, Configured: c.cfg.Ops.Domains,
		Attempts: jobs.DefaultMaxAttempts, FirstDelay: jobs.DefaultInitialDelay.String(), LongestDelay: jobs.DefaultMaxDelay.String(),
		Calendar: "span", RunWhen: jobs.RunImmediately, Hours: 12, Mode: string(events.ModeAuto),
		MaxDeactivations: jobs.DefaultSafety.MaxDeactivations, MaxPercent: jobs.DefaultSafety.MaxDeactivationPercent, MaxDrop: jobs.DefaultSafety.MaxResultDropPercent}
	f.SSO = c.ssoOn(r)
	return f
}

// ssoOn names the single sign-on kinds that are on (the SSO rule).
func (c *Console) ssoOn(r *http.Request) []string {
	st, err := c.cfg.Ops.Settings.SSO(r.Context())
	if err != nil {
		return nil
	}
	var on []string
	for k, v := range st {
		if v.Enabled {
			on = append(on, strings.ToUpper(k))
		}
	}
	return on
}

func formOf(j *jobs.Job, f jobForm) jobForm {
	f.Editing, f.Name, f.Enabled, f.AllDomains, f.Requeue = true, j.Name, j.Enabled, j.AllDomains, j.Requeue.Enabled
	for _, d := range j.Domains {
		f.Domains[d] = true
	}
	f.Attempts, f.FirstDelay, f.LongestDelay = j.Requeue.MaxAttempts, j.Requeue.InitialDelay.D().String(), j.Requeue.MaxDelay.D().String()
	switch {
	case j.Schedule.Every != 0:
		f.Calendar, f.RunWhen = "span", j.Schedule.RunWhen
		d := j.Schedule.Every.D()
		f.Days, f.Hours, f.Minutes = int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
		if j.Schedule.Start != nil {
			f.Start = j.Schedule.Start.UTC().Format("2006-01-02T15:04")
		}
	case j.Schedule.Cron != "":
		f.Calendar, f.Cron, f.TimeZone, f.RunWhen, f.Hours = "cron", j.Schedule.Cron, j.Schedule.TimeZone, "", 0
	default:
		f.Calendar, f.RunWhen, f.Hours = "manual", "", 0
	}
	sp := j.SafetyPolicy()
	f.MaxDeactivations, f.MaxPercent, f.MaxDrop = sp.MaxDeactivations, sp.MaxDeactivationPercent, sp.MaxResultDropPercent
	f.Mode = string(j.Mode)
	if f.Mode == "" {
		f.Mode = string(events.ModeAuto)
	}
	f.GroupsBase, f.GroupsFilter = j.Groups.BaseDN, j.Groups.Filter
	return f
}

// readForm reads the dialog; a field that is not a number says so.
func (c *Console) readForm(r *http.Request) (jobForm, error) {
	f := c.blankForm(r)
	if err := r.ParseForm(); err != nil {
		return f, err
	}
	v := r.PostForm
	f.Name = strings.TrimSpace(v.Get("name"))
	f.Enabled, f.AllDomains, f.Requeue = v.Get("enabled") == "on", v.Get("all_domains") == "on", v.Get("requeue") == "on"
	for _, d := range v["domain"] {
		f.Domains[d] = true
	}
	f.FirstDelay, f.LongestDelay = v.Get("first_delay"), v.Get("longest_delay")
	f.Calendar, f.RunWhen, f.Start = v.Get("calendar"), v.Get("run_when"), v.Get("start")
	f.Cron, f.TimeZone, f.Mode = strings.TrimSpace(v.Get("cron")), strings.TrimSpace(v.Get("time_zone")), v.Get("mode")
	f.GroupsBase, f.GroupsFilter = strings.TrimSpace(v.Get("groups_base_dn")), strings.TrimSpace(v.Get("groups_filter"))
	for _, n := range []struct {
		field, label string
		dst          *int
	}{{"attempts", "Attempts", &f.Attempts}, {"days", "Days", &f.Days}, {"hours", "Hours", &f.Hours}, {"minutes", "Minutes", &f.Minutes},
		{"max_deactivations", "Deactivations at most", &f.MaxDeactivations}, {"max_deactivation_percent", "Percent of active accounts at most", &f.MaxPercent},
		{"max_result_drop_percent", "Fewer users than the last good run at most", &f.MaxDrop}} {
		raw := strings.TrimSpace(v.Get(n.field))
		if raw == "" {
			*n.dst = 0
			continue
		}
		i, err := strconv.Atoi(raw)
		if err != nil {
			return f, admin.Fail(admin.Invalid, "%s: %q is not a whole number", n.label, raw)
		}
		*n.dst = i
	}
	return f, nil
}

// apply sets a job from the dialog, as `job create` sets it from flags.
func (f jobForm) apply(j *jobs.Job) error {
	j.AllDomains, j.Domains = f.AllDomains, nil
	if !f.AllDomains {
		for _, d := range f.Configured {
			if f.Domains[d] {
				j.Domains = append(j.Domains, d)
			}
		}
	}
	j.Enabled = f.Enabled
	j.Requeue = jobs.Requeue{Enabled: f.Requeue, MaxAttempts: f.Attempts}
	for _, d := range []struct {
		raw, label string
		dst        *jobs.Duration
	}{{f.FirstDelay, "First delay", &j.Requeue.InitialDelay}, {f.LongestDelay, "Longest delay", &j.Requeue.MaxDelay}} {
		dur, err := time.ParseDuration(strings.TrimSpace(d.raw))
		if err != nil {
			return admin.Fail(admin.Invalid, "%s %q: use a duration such as 30s, 5m or 1h", d.label, d.raw)
		}
		*d.dst = jobs.Duration(dur)
	}
	switch f.Calendar {
	case "span":
		every := time.Duration(f.Days)*24*time.Hour + time.Duration(f.Hours)*time.Hour + time.Duration(f.Minutes)*time.Minute
		j.Schedule = jobs.Schedule{Every: jobs.Duration(every), RunWhen: f.RunWhen}
		if every == 0 {
			return admin.Fail(admin.Invalid, "Time Span: give days, hours or minutes (at least %s)", jobs.MinEvery)
		}
		if f.RunWhen == jobs.RunScheduled {
			if f.Start == "" {
				return admin.Fail(admin.Invalid, "Run When Scheduled: give the first run's start")
			}
			t, err := time.Parse("2006-01-02T15:04", f.Start)
			if err != nil {
				return admin.Fail(admin.Invalid, "Start %q: use a date and time such as 2026-12-01T02:00 (UTC)", f.Start)
			}
			j.Schedule.Start = &t
		}
	case "cron":
		j.Schedule = jobs.Schedule{Cron: f.Cron, TimeZone: f.TimeZone}
	default:
		j.Schedule = jobs.Schedule{}
	}
	j.Safety = &events.Safety{MaxDeactivations: f.MaxDeactivations, MaxDeactivationPercent: f.MaxPercent, MaxResultDropPercent: f.MaxDrop}
	j.Mode = events.Mode(f.Mode)
	j.Groups = events.Scope{BaseDN: f.GroupsBase, Filter: f.GroupsFilter}
	return nil
}

func (c *Console) newJobPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusOK, "jobform", "New AD Sync Job", c.blankForm(r))
}

func (c *Console) editJobPage(w http.ResponseWriter, r *http.Request) {
	j, _, err := c.cfg.Ops.Jobs.Get(r.Context(), chi.URLParam(r, "name"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "jobform", "Edit "+j.Name, formOf(j, c.blankForm(r)))
}

func (c *Console) createJob(w http.ResponseWriter, r *http.Request) {
	f, err := c.readForm(r)
	if err == nil {
		j := &jobs.Job{Name: f.Name}
		if err = f.apply(j); err == nil {
			err = c.cfg.Ops.CreateJob(r.Context(), actor(r), j)
		}
	}
	if err != nil {
		status, msg := admin.Status(err)
		f.Error = msg
		c.render(w, r, status, "jobform", "New AD Sync Job", f)
		return
	}
	http.Redirect(w, r, "/jobs?done="+urlText("Job "+f.Name+" saved."), http.StatusSeeOther)
}

func (c *Console) updateJob(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "name")
	f, err := c.readForm(r)
	f.Name, f.Editing = name, true
	if err == nil {
		_, err = c.cfg.Ops.UpdateJob(r.Context(), actor(r), name, f.apply)
	}
	if err != nil {
		status, msg := admin.Status(err)
		f.Error = msg
		c.render(w, r, status, "jobform", "Edit "+name, f)
		return
	}
	http.Redirect(w, r, "/jobs?done="+urlText("Job "+name+" saved."), http.StatusSeeOther)
}

// runJob runs a job now (or a dry run) and opens the run's page, where it
// goes on live.
func (c *Console) runJob(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "name")
	if err := c.cfg.Ops.CheckNoRun(r.Context(), name); err != nil {
		c.fail(w, r, err)
		return
	}
	req, err := c.cfg.Ops.RunJob(r.Context(), actor(r), name, "", r.PostFormValue("dry_run") == "true")
	if err != nil {
		c.fail(w, r, err)
		return
	}
	redirect(w, r, "/runs/"+req.RunID+"?job="+name)
}

func (c *Console) switchJob(enabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := chi.URLParam(r, "name")
		if _, err := c.cfg.Ops.SetJobEnabled(r.Context(), actor(r), name, enabled); err != nil {
			c.fail(w, r, err)
			return
		}
		state := "disabled"
		if enabled {
			state = "enabled"
		}
		redirect(w, r, "/jobs?done="+urlText("Job "+name+" "+state+"."))
	}
}

func (c *Console) deleteJob(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "name")
	if err := c.cfg.Ops.DeleteJob(r.Context(), actor(r), name); err != nil {
		c.fail(w, r, err)
		return
	}
	redirect(w, r, "/jobs?done="+urlText("Job "+name+" deleted; its accounts and history stay."))
}

func (c *Console) jobRunsPage(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "name")
	h, err := runs.History(r.Context(), c.cfg.Ops.JS, name)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "jobruns", "Runs of "+name, struct {
		Job  string
		Runs []runs.Summary
	}{name, h})
}

// redirect sends the browser on; htmx follows HX-Redirect.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("HX-Redirect", to)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func urlText(s string) string { return url.QueryEscape(s) }

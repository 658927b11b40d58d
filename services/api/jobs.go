package api

import (
	"bytes"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/admin"
	"github.com/adsync/adsync/internal/jobs"
	"github.com/adsync/adsync/internal/runs"
)

const jobShape = `{"name": "nightly", "all_domains": true, "schedule": {"every": "12h", "run_when": "immediately"}, "requeue": {"enabled": true}, …}`

func (s *Service) listJobs(w http.ResponseWriter, r *http.Request) {
	list, err := s.ops.ViewJobs(r.Context())
	if err != nil {
		writeOpError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Service) getJob(w http.ResponseWriter, r *http.Request) {
	j, _, err := s.ops.Jobs.Get(r.Context(), chi.URLParam(r, "name"))
	if err != nil {
		writeOpError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.ops.ViewJob(r.Context(), j))
}

// createJob creates a job from the job object of GET /jobs/{name} (what
// the server keeps — environment, times, the schedule's anchor — is set
// here). Unset requeue settings take the command line's defaults.
func (s *Service) createJob(w http.ResponseWriter, r *http.Request) {
	var j jobs.Job
	if !readJSON(w, r, &j, jobShape) {
		return
	}
	if msg := serverOwned(&j); msg != "" {
		writeError(w, http.StatusUnprocessableEntity, msg)
		return
	}
	jobs.FillRequeueDefaults(&j.Requeue)
	if err := s.ops.CreateJob(r.Context(), actor(r), &j); err != nil {
		writeOpError(w, err)
		return
	}
	w.Header().Set("Location", "/api/v1/jobs/"+j.Name)
	writeJSON(w, http.StatusCreated, s.ops.ViewJob(r.Context(), &j))
}

// serverOwned refuses fields that the server sets.
func serverOwned(j *jobs.Job) string {
	switch {
	case j.Environment != "":
		return "environment is the installation's own and cannot be set"
	case !j.CreatedAt.IsZero() || !j.UpdatedAt.IsZero() || !j.ScheduleSince.IsZero():
		return "created_at, updated_at and schedule_since are set by adsync"
	case j.Schedule.Anchor != nil:
		return "schedule.anchor is set by adsync from run_when and start"
	}
	return ""
}

// patchJob changes a job with a JSON merge patch (RFC 7396) of its job
// object: {"enabled": false}, {"schedule": {"every": "24h"}}. A changed
// schedule starts again from now (admin.Ops.UpdateJob).
func (s *Service) patchJob(w http.ResponseWriter, r *http.Request) {
	var patch map[string]any
	if !readJSON(w, r, &patch, `a JSON merge patch of the job, e.g. {"enabled": false}`) {
		return
	}
	for _, k := range []string{"name", "environment", "created_at", "updated_at", "schedule_since"} {
		if _, ok := patch[k]; ok {
			writeError(w, http.StatusUnprocessableEntity, k+" cannot be changed")
			return
		}
	}
	name := chi.URLParam(r, "name")
	j, err := s.ops.UpdateJob(r.Context(), actor(r), name, func(j *jobs.Job) error {
		cur, _ := json.Marshal(j)
		var doc map[string]any
		_ = json.Unmarshal(cur, &doc)
		merged, _ := json.Marshal(mergePatch(doc, patch))
		var next jobs.Job
		dec := json.NewDecoder(bytes.NewReader(merged))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&next); err != nil {
			return admin.Fail(admin.Invalid, "the patch does not fit a job: %v", err)
		}
		jobs.FillRequeueDefaults(&next.Requeue)
		*j = next
		return nil
	})
	if err != nil {
		writeOpError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.ops.ViewJob(r.Context(), j))
}

// mergePatch applies an RFC 7396 merge patch to doc.
func mergePatch(doc, patch map[string]any) map[string]any {
	if doc == nil {
		doc = map[string]any{}
	}
	for k, v := range patch {
		switch pv := v.(type) {
		case nil:
			delete(doc, k)
		case map[string]any:
			dv, _ := doc[k].(map[string]any)
			doc[k] = mergePatch(dv, pv)
		default:
			doc[k] = v
		}
	}
	return doc
}

func (s *Service) deleteJob(w http.ResponseWriter, r *http.Request) {
	if err := s.ops.DeleteJob(r.Context(), actor(r), chi.URLParam(r, "name")); err != nil {
		writeOpError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// runRequest is the optional body of POST /api/v1/jobs/{name}/run.
type runRequest struct {
	Mode   events.Mode `json:"mode,omitempty"`
	DryRun bool        `json:"dry_run,omitempty"`
}

// runRequested is its answer: guard decides whether the run may start;
// the run's outcome is in the job's runs.
type runRequested struct {
	RunID string `json:"run_id"`
	Job   string `json:"job"`
}

// runJob requests a run of a job now, as `adsync job run` does; 409 while
// a run of the job is in progress.
func (s *Service) runJob(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "name")
	var body runRequest
	if r.ContentLength != 0 && !readJSON(w, r, &body, `{"mode": "auto|full|delta", "dry_run": false}, or empty`) {
		return
	}
	if err := s.ops.CheckNoRun(r.Context(), name); err != nil {
		writeOpError(w, err)
		return
	}
	req, err := s.ops.RunJob(r.Context(), actor(r), name, body.Mode, body.DryRun)
	if err != nil {
		writeOpError(w, err)
		return
	}
	w.Header().Set("Location", "/api/v1/runs/"+req.RunID)
	writeJSON(w, http.StatusAccepted, runRequested{RunID: req.RunID, Job: name})
}

// jobRuns is a job's runs, newest first (as `adsync job history --json`).
func (s *Service) jobRuns(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "name")
	list, err := runs.History(r.Context(), s.ops.JS, name)
	if err != nil {
		writeOpError(w, err)
		return
	}
	if len(list) == 0 {
		if _, _, err := s.ops.Jobs.Get(r.Context(), name); err != nil {
			writeOpError(w, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, list)
}

package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/jobs"
)

// runRequest is the optional body of POST /api/v1/jobs/{name}/run.
type runRequest struct {
	Mode   events.Mode `json:"mode,omitempty"`
	DryRun bool        `json:"dry_run,omitempty"`
}

// runRequested is its answer: guard decides whether the run may start;
// the run's outcome is in the job's history.
type runRequested struct {
	RunID string `json:"run_id"`
	Job   string `json:"job"`
}

// runJob requests a run of a job now, as `adsync job run` does.
func (s *Service) runJob(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "name")
	var body runRequest
	if r.ContentLength != 0 {
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&body); err != nil {
			writeError(w, http.StatusUnprocessableEntity, `the body must be JSON: {"mode": "auto|full|delta", "dry_run": false}, or empty`)
			return
		}
	}
	switch body.Mode {
	case "", events.ModeAuto, events.ModeFull, events.ModeDelta:
	default:
		writeError(w, http.StatusUnprocessableEntity, "mode "+string(body.Mode)+" is not one of auto, full, delta")
		return
	}
	if _, _, err := s.jobs.Get(r.Context(), name); err != nil {
		if errors.Is(err, jobs.ErrNotFound) {
			writeError(w, http.StatusNotFound, err.Error())
			return
		}
		writeError(w, http.StatusBadGateway, err.Error())
		return
	}
	now := time.Now().UTC()
	req := &events.SyncRequested{Run: events.Run{RunID: jobs.ManualRunID(name, now), Job: name, Trigger: events.TriggerManual,
		RequestedAt: now, DryRun: body.DryRun}, Mode: body.Mode}
	if err := s.pub.Publish(r.Context(), req); err != nil {
		writeError(w, http.StatusBadGateway, "request the run: "+err.Error())
		return
	}
	s.log.Info("run requested through the API", "job", name, "run_id", req.RunID, "by", "api:"+client(r.Context()).Name)
	writeJSON(w, http.StatusAccepted, runRequested{RunID: req.RunID, Job: name})
}

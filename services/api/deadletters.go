package api

import (
	"context"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/admin"
)

func (s *Service) listDeadLetters(w http.ResponseWriter, r *http.Request) {
	list, err := s.ops.DeadLetters(r.Context())
	if err != nil {
		writeOpError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

func seqParam(w http.ResponseWriter, r *http.Request) (uint64, bool) {
	seq, err := strconv.ParseUint(chi.URLParam(r, "seq"), 10, 64)
	if err != nil || seq == 0 {
		writeError(w, http.StatusUnprocessableEntity, "a dead letter's number is its seq in GET /api/v1/deadletters")
		return 0, false
	}
	return seq, true
}

func (s *Service) getDeadLetter(w http.ResponseWriter, r *http.Request) {
	seq, ok := seqParam(w, r)
	if !ok {
		return
	}
	d, err := s.ops.DeadLetter(r.Context(), seq)
	if err != nil {
		writeOpError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// replayDeadLetter publishes a dead letter again on its subject (its
// handler applies it once) and removes it.
func (s *Service) replayDeadLetter(w http.ResponseWriter, r *http.Request) {
	s.deadLetterOp(w, r, s.ops.ReplayDeadLetters)
}

// purgeDeadLetter removes a dead letter for good.
func (s *Service) purgeDeadLetter(w http.ResponseWriter, r *http.Request) {
	s.deadLetterOp(w, r, s.ops.PurgeDeadLetters)
}

type deadLetterOp func(ctx context.Context, actor events.Actor, seqs []uint64, done func(admin.DeadLetter)) error

func (s *Service) deadLetterOp(w http.ResponseWriter, r *http.Request, op deadLetterOp) {
	seq, ok := seqParam(w, r)
	if !ok {
		return
	}
	var did admin.DeadLetter
	if err := op(r.Context(), actor(r), []uint64{seq}, func(d admin.DeadLetter) { did = d }); err != nil {
		writeOpError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, did)
}

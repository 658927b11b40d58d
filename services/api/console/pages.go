package console

import (
	"bytes"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"
	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/internal/admin"
	"github.com/adsync/adsync/internal/audit"
	"github.com/adsync/adsync/internal/natsapi"
	"github.com/adsync/adsync/internal/settings"
	"github.com/adsync/adsync/services/account-writer/accounts"
)

// pageRoutes are the pages that mostly show: drift, single sign-on, job
// servers, dead letters, the audit log.
func (c *Console) pageRoutes(r chi.Router) {
	r.Get("/drift", c.driftPage)
	r.Get("/sso", c.ssoPage)
	r.Post("/sso/{kind}", c.require("admin", c.setSSO))
	r.Get("/servers", c.serversPage)
	r.Get("/deadletters", c.deadLettersPage)
	r.Get("/deadletters/{seq}", c.deadLetterPage)
	r.Post("/deadletters/{seq}/replay", c.require("admin", c.deadLetterOp(true)))
	r.Post("/deadletters/{seq}/purge", c.require("admin", c.deadLetterOp(false)))
	r.Get("/audit", c.auditPage)
	r.Get("/notifications", c.notificationsPage)
}

func (c *Console) driftPage(w http.ResponseWriter, r *http.Request) {
	resp, err := natsapi.Request[natsapi.AccountsListResponse](r.Context(), c.cfg.Ops.NC, natsapi.SubjectAccountsList, "account-writer",
		accounts.ListFilter{DriftOnly: true, Limit: 1000})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "drift", "Drift", resp.Accounts)
}

type ssoRow struct {
	Kind, Name string
	State      settings.SSOState
}

func (c *Console) ssoPage(w http.ResponseWriter, r *http.Request) {
	st, err := c.cfg.Ops.Settings.SSO(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	var rows []ssoRow
	for _, k := range settings.SSOKinds {
		rows = append(rows, ssoRow{Kind: k, Name: settings.SSOName(k), State: st[k]})
	}
	c.render(w, r, http.StatusOK, "sso", "Single sign-on", rows)
}

func (c *Console) setSSO(w http.ResponseWriter, r *http.Request) {
	kind := chi.URLParam(r, "kind")
	enable := r.PostFormValue("enabled") == "true"
	if _, err := c.cfg.Ops.SetSSO(r.Context(), actor(r), kind, enable, r.PostFormValue("force") == "true"); err != nil {
		c.fail(w, r, err)
		return
	}
	redirect(w, r, "/sso?done="+urlText(settings.SSOName(kind)+" single sign-on switched."))
}

func (c *Console) serversPage(w http.ResponseWriter, r *http.Request) {
	list, err := c.cfg.Servers(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "servers", "Job servers", list)
}

func (c *Console) deadLettersPage(w http.ResponseWriter, r *http.Request) {
	list, err := c.cfg.Ops.DeadLetters(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "deadletters", "Dead letters", list)
}

func (c *Console) deadLetterOp(replay bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		seq, err := strconv.ParseUint(chi.URLParam(r, "seq"), 10, 64)
		if err != nil {
			c.problem(w, r, http.StatusUnprocessableEntity, "no such dead letter")
			return
		}
		op, done := c.cfg.Ops.PurgeDeadLetters, "purged"
		if replay {
			op, done = c.cfg.Ops.ReplayDeadLetters, "replayed"
		}
		if err := op(r.Context(), actor(r), []uint64{seq}, func(admin.DeadLetter) {}); err != nil {
			c.fail(w, r, err)
			return
		}
		redirect(w, r, "/deadletters?done="+urlText("Dead letter "+strconv.FormatUint(seq, 10)+" "+done+"."))
	}
}

func (c *Console) auditPage(w http.ResponseWriter, r *http.Request) {
	before, _ := strconv.ParseUint(r.URL.Query().Get("before"), 10, 64)
	entries, next, err := audit.List(r.Context(), c.cfg.Ops.JS, audit.Query{Before: before, Limit: 100,
		Actor: r.URL.Query().Get("actor"), Action: r.URL.Query().Get("action"), Target: r.URL.Query().Get("target")})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "audit", "Audit log", struct {
		Entries []audit.Entry
		Next    uint64
	}{entries, next})
}

// deadLetterPage shows one dead letter whole: headers and payload.
func (c *Console) deadLetterPage(w http.ResponseWriter, r *http.Request) {
	seq, err := strconv.ParseUint(chi.URLParam(r, "seq"), 10, 64)
	if err != nil {
		c.problem(w, r, http.StatusNotFound, "no such dead letter")
		return
	}
	d, err := c.cfg.Ops.DeadLetter(r.Context(), seq)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	payload := d.Raw
	if len(d.Payload) > 0 {
		var buf bytes.Buffer
		if json.Indent(&buf, d.Payload, "", "  ") == nil {
			payload = buf.String()
		}
	}
	c.render(w, r, http.StatusOK, "deadletter", "Dead letter "+strconv.FormatUint(seq, 10), struct {
		admin.DeadLetter
		Body string
	}{d, payload})
}

package e2e

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/internal/admin"
	"github.com/adsync/adsync/internal/audit"
	"github.com/adsync/adsync/internal/holds"
	"github.com/adsync/adsync/internal/presence"
	"github.com/adsync/adsync/internal/runs"
	"github.com/adsync/adsync/internal/testenv/slapd"
)

type apiError struct {
	Error struct{ Message string } `json:"error"`
}

// Everything an administrator does from the command line, done through
// the HTTP API by the role allowed to, refused (403) for the roles that
// may not, with 404, 409 and 422 answers an administrator can act on; and
// every change in the audit log with the token's name, before and after,
// beside the command line's own changes with its NATS identity.
func TestHTTPAPIAdministersJobsPlansSSOAndAudits(t *testing.T) {
	t.Parallel()
	openldap := slapd.Start(t, slapd.WithUsers(10))
	dir := t.TempDir()
	secrets := map[string]string{"viewer": strings.Repeat("v1ew", 8), "operator": strings.Repeat("0per", 8), "admin": strings.Repeat("adm1", 8)}
	cfg := "http:\n  listen: %s\n  tokens:\n"
	listen := freeAddr(t)
	for _, role := range []string{"viewer", "operator", "admin"} {
		cfg += fmt.Sprintf("    - name: %s-token\n      token_file: %s\n      role: %s\n", role, writeSecret(t, filepath.Join(dir, role), secrets[role]), role)
	}
	sys := Start(t, []Domain{LDAPDomain("lab", openldap)}, WithConfig(fmt.Sprintf(cfg, listen)))
	base := "http://" + listen
	viewer, operator, adm := apiClient{t, base, secrets["viewer"]}, apiClient{t, base, secrets["operator"]}, apiClient{t, base, secrets["admin"]}

	// Jobs: only an admin creates, changes and deletes them.
	job := `{"name": "nightly", "enabled": true, "all_domains": true, "schedule": {"every": "12h", "run_when": "scheduled"},
		"requeue": {"enabled": true}, "mode": "full", "safety": {"max_deactivations": 500, "max_deactivation_percent": 10, "max_result_drop_percent": 10}}`
	for _, c := range []apiClient{viewer, operator} {
		c.want(http.StatusForbidden, "POST", "/api/v1/jobs", job, nil)
		c.want(http.StatusForbidden, "PATCH", "/api/v1/jobs/nightly", `{"enabled": false}`, nil)
		c.want(http.StatusForbidden, "DELETE", "/api/v1/jobs/nightly", "", nil)
		c.want(http.StatusForbidden, "PUT", "/api/v1/sso/saml", `{"enabled": true}`, nil)
	}
	var e apiError
	adm.want(http.StatusUnprocessableEntity, "POST", "/api/v1/jobs", `{"name": "bad"}`, &e)
	if !strings.Contains(e.Error.Message, "choose the domains to sync") {
		t.Errorf("a job without domains: %q", e.Error.Message)
	}
	adm.want(http.StatusUnprocessableEntity, "POST", "/api/v1/jobs", `{"name": "bad", "domains": ["nope"]}`, &e)
	if !strings.Contains(e.Error.Message, `domain "nope" is not configured`) {
		t.Errorf("a job with an unknown domain: %q", e.Error.Message)
	}
	adm.want(http.StatusUnprocessableEntity, "POST", "/api/v1/jobs", `{"name": "bad", "all_domains": true, "colour": "red"}`, nil)
	var created admin.JobView
	adm.want(http.StatusCreated, "POST", "/api/v1/jobs", job, &created)
	if !created.Requeue.Enabled || created.Requeue.MaxAttempts != 5 || created.Environment == "" || created.NextRun == "" {
		t.Fatalf("created: %+v", created)
	}
	adm.want(http.StatusConflict, "POST", "/api/v1/jobs", job, nil)
	var jobsList []admin.JobView
	viewer.want(http.StatusOK, "GET", "/api/v1/jobs", "", &jobsList)
	if len(jobsList) != 1 || jobsList[0].Name != "nightly" {
		t.Fatalf("jobs: %+v", jobsList)
	}
	var changed admin.JobView
	adm.want(http.StatusOK, "PATCH", "/api/v1/jobs/nightly", `{"enabled": false, "safety": {"max_deactivation_percent": 20}}`, &changed)
	if changed.Enabled || changed.Safety.MaxDeactivationPercent != 20 || changed.Safety.MaxDeactivations != 500 || changed.NextRun != "" {
		t.Fatalf("after the patch: %+v %+v", changed, changed.Safety)
	}
	adm.want(http.StatusUnprocessableEntity, "PATCH", "/api/v1/jobs/nightly", `{"schedule": {"every": "10s"}}`, &e)
	if !strings.Contains(e.Error.Message, "the shortest span is 1m0s") {
		t.Errorf("a too short span: %q", e.Error.Message)
	}
	adm.want(http.StatusUnprocessableEntity, "PATCH", "/api/v1/jobs/nightly", `{"environment": "elsewhere"}`, nil)
	adm.want(http.StatusNotFound, "PATCH", "/api/v1/jobs/nope", `{"enabled": false}`, nil)
	viewer.want(http.StatusNotFound, "GET", "/api/v1/jobs/nope", "", nil)
	adm.want(http.StatusOK, "PATCH", "/api/v1/jobs/nightly", `{"enabled": true}`, &changed)
	if !changed.Enabled || changed.NextRun == "" {
		t.Fatalf("enabled again: %+v", changed)
	}

	// A run, its report and history; a held plan, approved by an operator.
	viewer.want(http.StatusForbidden, "POST", "/api/v1/jobs/nightly/run", "", nil)
	first := apiRun(t, sys, operator, "nightly")
	var rep struct {
		Domains []struct{ Domain string } `json:"domains"`
		Changes []struct{ Op string }     `json:"changes"`
	}
	viewer.want(http.StatusOK, "GET", "/api/v1/runs/"+first, "", &rep)
	if len(rep.Domains) != 1 || len(rep.Changes) != 10 {
		t.Fatalf("report of the first run: %+v", rep)
	}
	viewer.want(http.StatusNotFound, "GET", "/api/v1/runs/nightly-20000101T000000Z-000000", "", nil)
	for i := 1; i <= 3; i++ { // 30% > 20%
		openldap.Delete(t, fmt.Sprintf("uid=user%07d,%s", i, openldap.UsersDN))
	}
	heldRun := apiRun(t, sys, operator, "nightly")
	var held []holds.Plan
	viewer.want(http.StatusOK, "GET", "/api/v1/held", "", &held)
	if len(held) != 1 || held[0].RunID != heldRun || held[0].Hold.Deactivations != 3 {
		t.Fatalf("held plans: %+v", held)
	}
	viewer.want(http.StatusForbidden, "POST", "/api/v1/runs/"+heldRun+"/approve", "", nil)
	operator.want(http.StatusNotFound, "POST", "/api/v1/runs/"+first+"/approve", "", nil)
	operator.want(http.StatusAccepted, "POST", "/api/v1/runs/"+heldRun+"/approve", "", nil)
	waitFor(t, "the approved plan applied and the hold lifted", time.Minute, func() bool {
		var h []holds.Plan
		viewer.want(http.StatusOK, "GET", "/api/v1/held", "", &h)
		return len(h) == 0 && activeCount(sys.Accounts("lab")) == 7
	})
	var history []runs.Summary
	viewer.want(http.StatusOK, "GET", "/api/v1/jobs/nightly/runs", "", &history)
	if len(history) != 2 || history[0].RunID != heldRun || history[0].Outcome != "held" || history[1].Outcome != "completed" {
		t.Fatalf("history: %+v", history)
	}

	// Single sign-on is refused while an AD Sync Job is enabled.
	adm.want(http.StatusConflict, "PUT", "/api/v1/sso/saml", `{"enabled": true}`, &e)
	if !strings.Contains(e.Error.Message, "enabled AD Sync Jobs exist (nightly)") {
		t.Errorf("SSO refusal: %q", e.Error.Message)
	}
	adm.want(http.StatusUnprocessableEntity, "PUT", "/api/v1/sso/kerberos", `{"enabled": true}`, nil)
	var sso struct {
		DisabledJobs []string `json:"disabled_jobs"`
	}
	adm.want(http.StatusOK, "PUT", "/api/v1/sso/saml", `{"enabled": true, "force": true}`, &sso)
	if len(sso.DisabledJobs) != 1 || sso.DisabledJobs[0] != "nightly" {
		t.Fatalf("forced SSO: %+v", sso)
	}
	var state map[string]struct{ Enabled bool }
	viewer.want(http.StatusOK, "GET", "/api/v1/sso", "", &state)
	if !state["saml"].Enabled || state["oidc"].Enabled {
		t.Fatalf("sso: %+v", state)
	}
	adm.want(http.StatusOK, "PUT", "/api/v1/sso/saml", `{"enabled": false}`, nil)

	// Job servers, dead letters (none), deletion.
	var servers []presence.Heartbeat
	viewer.want(http.StatusOK, "GET", "/api/v1/servers", "", &servers)
	if len(servers) != 1 || !servers[0].JobServer || !strings.Contains(strings.Join(servers[0].Services, ","), "api") {
		t.Fatalf("servers: %+v", servers)
	}
	var dead []admin.DeadLetter
	viewer.want(http.StatusOK, "GET", "/api/v1/deadletters", "", &dead)
	if len(dead) != 0 {
		t.Fatalf("dead letters: %+v", dead)
	}
	adm.want(http.StatusNotFound, "POST", "/api/v1/deadletters/1/replay", "", nil)
	operator.want(http.StatusForbidden, "DELETE", "/api/v1/deadletters/1", "", nil)
	sys.MustCLI("job", "create", "cli-made", "--domain", "lab")
	adm.want(http.StatusNoContent, "DELETE", "/api/v1/jobs/nightly", "", nil)
	viewer.want(http.StatusNotFound, "GET", "/api/v1/jobs/nightly", "", nil)

	// The audit log: each change once, with its real actor.
	var page struct {
		Entries []audit.Entry `json:"entries"`
	}
	viewer.want(http.StatusOK, "GET", "/api/v1/audit?limit=1000", "", &page)
	var got []string
	for i := len(page.Entries) - 1; i >= 0; i-- {
		en := page.Entries[i]
		got = append(got, en.Actor.String()+" "+en.Action+" "+en.Target)
	}
	want := []string{
		"token:admin-token job.create nightly",
		"token:admin-token job.update nightly",
		"token:admin-token job.update nightly",
		"token:operator-token job.run nightly",
		"token:operator-token job.run nightly",
		"token:operator-token plan.approve " + heldRun,
		"token:admin-token job.disable nightly",
		"token:admin-token sso.enable saml",
		"token:admin-token sso.disable saml",
		"cli:local administrator (" + filepath.Join(sys.Dir, "data", "nats.token") + ") job.create cli-made",
		"token:admin-token job.delete nightly",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var update audit.Entry
	for _, en := range page.Entries {
		if en.Action == "job.update" && en.Target == "nightly" {
			update = en // the oldest update: enabled true → false
		}
	}
	var before, after struct{ Enabled bool }
	if json.Unmarshal(update.Before, &before) != nil || json.Unmarshal(update.After, &after) != nil || !before.Enabled || after.Enabled {
		t.Fatalf("the update's before and after: %s → %s", update.Before, update.After)
	}
	var filtered struct {
		Entries []audit.Entry `json:"entries"`
	}
	viewer.want(http.StatusOK, "GET", "/api/v1/audit?action=sso.enable", "", &filtered)
	if len(filtered.Entries) != 1 || !strings.Contains(filtered.Entries[0].Detail, "disabled the AD Sync Jobs nightly") {
		t.Fatalf("filtered audit: %+v", filtered.Entries)
	}
	var cliList []audit.Entry
	if err := json.Unmarshal([]byte(sys.MustCLI("audit", "list", "--json", "--target", "cli-made")), &cliList); err != nil || len(cliList) != 1 {
		t.Fatalf("adsync audit list: %v %+v", err, cliList)
	}

	if log := readLog(t, sys); strings.Contains(log, secrets["viewer"]) || strings.Contains(log, secrets["operator"]) || strings.Contains(log, secrets["admin"]) {
		t.Fatal("a token appears in the log")
	}
}

// apiRun runs a job through the API and waits for its outcome: completed,
// or held.
func apiRun(t *testing.T, sys *System, c apiClient, job string) string {
	t.Helper()
	var run struct {
		RunID string `json:"run_id"`
	}
	c.want(http.StatusAccepted, "POST", "/api/v1/jobs/"+job+"/run", "", &run)
	waitFor(t, "run "+run.RunID, time.Minute, func() bool {
		o := outcomeOf(sys, job, run.RunID)
		return o != "" && o != "requested" && o != "running"
	})
	if o := outcomeOf(sys, job, run.RunID); o != "completed" && o != "held" {
		t.Fatalf("run %s: %s", run.RunID, o)
	}
	return run.RunID
}

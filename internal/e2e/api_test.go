package e2e

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/testenv/slapd"
)

// apiClient calls the HTTP API with a token ("" for none).
type apiClient struct {
	t     *testing.T
	base  string
	token string
}

func (c apiClient) do(method, path, body string) (int, http.Header, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	cl := &http.Client{Timeout: 30 * time.Second}
	resp, err := cl.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, raw
}

// want checks a status and decodes the body into v (if not nil).
func (c apiClient) want(status int, method, path, body string, v any) {
	c.t.Helper()
	got, _, raw := c.do(method, path, body)
	if got != status {
		c.t.Fatalf("%s %s: %d %s, want %d", method, path, got, raw, status)
	}
	if v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			c.t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
}

type accountsPage struct {
	Accounts []events.Account `json:"accounts"`
	FeedSeq  int64            `json:"feed_seq"`
	Next     string           `json:"next"`
}

// The HTTP API: every route refuses a request without a valid token (401)
// and a role that may not (403); a viewer pages through the accounts with
// the feed's sequence; an operator sets and lifts a local hold, which the
// feed attributes to the token's name; bad requests get 404, 409 and 422
// with a message; no token appears in the log.
func TestHTTPAPIAccountsAndRoles(t *testing.T) {
	t.Parallel()
	openldap := slapd.Start(t, slapd.WithUsers(5))
	dir := t.TempDir()
	viewer, operator := strings.Repeat("v1ew", 8), strings.Repeat("0per", 8)
	listen := freeAddr(t)
	sys := Start(t, []Domain{LDAPDomain("lab", openldap)}, WithConfig(fmt.Sprintf(`http:
  listen: %s
  tokens:
    - name: platform
      token_file: %s
      role: viewer
    - name: helpdesk
      token_file: %s
      role: operator
`, listen, writeSecret(t, filepath.Join(dir, "viewer.token"), viewer+"\n"), writeSecret(t, filepath.Join(dir, "operator.token"), operator+"\n"))))
	sys.MustCLI("job", "create", "lab-sync", "--all-domains")
	sys.MustComplete("lab-sync")
	feed := followFeed(t, sys)
	feed.next(5, 30*time.Second)

	base := "http://" + listen
	anon, wrong := apiClient{t, base, ""}, apiClient{t, base, strings.Repeat("x", 32)}
	asViewer, asOperator := apiClient{t, base, viewer}, apiClient{t, base, operator}

	routes := []struct{ method, path, body string }{
		{"GET", "/api/v1/accounts", ""},
		{"GET", "/api/v1/openapi.json", ""},
		{"PUT", "/api/v1/accounts/lab/x/hold", `{"reason":"r"}`},
		{"DELETE", "/api/v1/accounts/lab/x/hold", ""},
		{"POST", "/api/v1/jobs/lab-sync/run", ""},
		{"GET", "/api/v1/no-such-route", ""},
	}
	for _, r := range routes {
		status, h, _ := anon.do(r.method, r.path, r.body)
		if status != http.StatusUnauthorized || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s %s without a token: %d, want 401 with a Bearer challenge", r.method, r.path, status)
		}
		if status, _, _ := wrong.do(r.method, r.path, r.body); status != http.StatusUnauthorized {
			t.Errorf("%s %s with a wrong token: %d, want 401", r.method, r.path, status)
		}
	}
	for _, r := range routes[2:5] {
		var e struct {
			Error struct{ Message string } `json:"error"`
		}
		asViewer.want(http.StatusForbidden, r.method, r.path, r.body, &e)
		if !strings.Contains(e.Error.Message, "viewer") || !strings.Contains(e.Error.Message, "operator") {
			t.Errorf("403 says %q", e.Error.Message)
		}
	}

	// A snapshot, page by page, with the feed's sequence.
	var all []events.Account
	var first accountsPage
	for path := "/api/v1/accounts?limit=2"; ; {
		var page accountsPage
		asViewer.want(http.StatusOK, "GET", path, "", &page)
		if first.Accounts == nil {
			first = page
		}
		all = append(all, page.Accounts...)
		if page.Next == "" {
			break
		}
		path = "/api/v1/accounts?limit=2&cursor=" + page.Next
	}
	if len(all) != 5 || first.FeedSeq != 5 || len(first.Accounts) != 2 {
		t.Fatalf("pages: %d accounts, feed_seq %d, first page %d", len(all), first.FeedSeq, len(first.Accounts))
	}
	for i := 1; i < len(all); i++ {
		if all[i-1].Username >= all[i].Username {
			t.Fatalf("accounts out of order: %s before %s", all[i-1].Username, all[i].Username)
		}
	}
	asViewer.want(http.StatusUnprocessableEntity, "GET", "/api/v1/accounts?limit=0", "", nil)
	asViewer.want(http.StatusUnprocessableEntity, "GET", "/api/v1/accounts?cursor=@@", "", nil)
	var doc map[string]any
	asViewer.want(http.StatusOK, "GET", "/api/v1/openapi.json", "", &doc)
	if doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi.json: %v", doc["openapi"])
	}

	// A local hold, set and lifted by the operator.
	target := all[2]
	hold := "/api/v1/accounts/lab/" + target.ExternalID + "/hold"
	asOperator.want(http.StatusUnprocessableEntity, "PUT", hold, `{"reason":""}`, nil)
	asOperator.want(http.StatusUnprocessableEntity, "PUT", hold, `not json`, nil)
	asOperator.want(http.StatusNotFound, "PUT", "/api/v1/accounts/lab/no-such-id/hold", `{"reason":"gone"}`, nil)
	var a events.Account
	asOperator.want(http.StatusOK, "PUT", hold, `{"reason":"on leave"}`, &a)
	if a.Active || a.InactiveReason != events.ReasonLocal || a.LocalNote != "on leave" {
		t.Fatalf("after the hold: %+v", a)
	}
	asOperator.want(http.StatusOK, "DELETE", hold, "", &a)
	if !a.Active {
		t.Fatalf("after lifting the hold: %+v", a)
	}
	asOperator.want(http.StatusConflict, "DELETE", hold, "", nil)
	changes := feed.next(2, 30*time.Second)
	for i, want := range []string{events.ChangeHoldSet, events.ChangeHoldLifted} {
		if changes[i].Change != want || changes[i].Actor != "token:helpdesk" || changes[i].Account.ExternalID != target.ExternalID {
			t.Errorf("feed change %d: %+v, want %s by token:helpdesk", i, changes[i], want)
		}
	}
	// Run a job now: it runs, as `adsync job run` would.
	asOperator.want(http.StatusNotFound, "POST", "/api/v1/jobs/no-such-job/run", "", nil)
	asOperator.want(http.StatusUnprocessableEntity, "POST", "/api/v1/jobs/lab-sync/run", `{"mode":"sometimes"}`, nil)
	var run struct {
		RunID string `json:"run_id"`
		Job   string `json:"job"`
	}
	asOperator.want(http.StatusAccepted, "POST", "/api/v1/jobs/lab-sync/run", `{"mode":"full"}`, &run)
	if run.Job != "lab-sync" || !strings.HasPrefix(run.RunID, "lab-sync-") {
		t.Fatalf("run requested: %+v", run)
	}
	waitFor(t, "the run requested through the API", time.Minute, func() bool { return outcomeOf(sys, "lab-sync", run.RunID) == "completed" })

	if log := readLog(t, sys); strings.Contains(log, viewer) || strings.Contains(log, operator) {
		t.Fatal("a token appears in the log")
	}
}

package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/testenv/receivers"
	"github.com/adsync/adsync/internal/testenv/slapd"
)

// notifyConfig is a notify section with a webhook and an e-mail channel
// for the given events.
func notifyConfig(t *testing.T, hook *receivers.WebhookReceiver, mail *receivers.SMTPServer, kinds ...string) string {
	dir := t.TempDir()
	cfg := fmt.Sprintf(`notify:
  console_url: https://adsync.example.com
  check_every: 1s
  channels:
    - name: hook
      type: webhook
      url: %s
      secret_file: %s
`, hook.URL, writeSecret(t, filepath.Join(dir, "hook.secret"), hook.Secret))
	channels := "hook"
	if mail != nil {
		cfg += fmt.Sprintf(`    - name: mail
      type: email
      smtp: %s
      username: %s
      password_file: %s
      ca_file: %s
      from: adsync@example.com
      to: [iam-team@example.com]
`, mail.Addr, mail.Username, writeSecret(t, filepath.Join(dir, "smtp.pass"), mail.Password), mail.CAFile)
		channels += ", mail"
	}
	return cfg + fmt.Sprintf("  rules:\n    - events: [%s]\n      jobs: [\"*\"]\n      channels: [%s]\n", strings.Join(kinds, ", "), channels)
}

// webhooks decodes the notifications the receiver accepted.
func webhooks(t *testing.T, hook *receivers.WebhookReceiver) []events.NotificationRequested {
	t.Helper()
	bodies, _, bad := hook.Accepted()
	if bad > 0 {
		t.Fatalf("%d webhook(s) with a wrong signature", bad)
	}
	var out []events.NotificationRequested
	for _, b := range bodies {
		var n events.NotificationRequested
		if err := json.Unmarshal(b, &n); err != nil {
			t.Fatalf("webhook body %s: %v", b, err)
		}
		out = append(out, n)
	}
	return out
}

// summary is kind/state per notification, in order.
func summary(ns []events.NotificationRequested) string {
	var s []string
	for _, n := range ns {
		s = append(s, n.Kind+"/"+n.State)
	}
	return strings.Join(s, " ")
}

// A held plan sends one signed webhook and one e-mail, with the numbers
// and a link; the alert does not repeat while the plan stays held; a
// receiver that is down gets every alert once it is back, each once; the
// next good run resolves each alert on both channels.
func TestAlertsOfAHeldPlanAndAFailedRunReachWebhookAndMail(t *testing.T) {
	t.Parallel()
	openldap := slapd.Start(t, slapd.WithUsers(10))
	hook := receivers.Webhook(t, "hook-secret-0123456789")
	mail := receivers.SMTP(t)
	metricsAddr, listen := freeAddr(t), freeAddr(t)
	token := writeSecret(t, filepath.Join(t.TempDir(), "token"), strings.Repeat("t0ken", 7))
	sys := Start(t, []Domain{LDAPDomain("lab", openldap)}, WithConfig(notifyConfig(t, hook, mail, "run.held", "run.failed")+"metrics:\n  listen: "+metricsAddr+"\n"+
		fmt.Sprintf("http:\n  listen: %s\n  tokens:\n    - {name: platform, token_file: %s, role: viewer}\n", listen, token)))
	metric := func(series string) bool {
		_, b := httpGet(t, "http://"+metricsAddr+"/metrics")
		return strings.Contains(b, series)
	}
	sys.MustCLI("job", "create", "held-alerts", "--all-domains", "--mode", "full")
	sys.MustComplete("held-alerts")

	for i := 1; i <= 3; i++ { // 30% > 10%
		openldap.Delete(t, fmt.Sprintf("uid=user%07d,%s", i, openldap.UsersDN))
	}
	held, _ := sys.RunJob("held-alerts")
	if held.Outcome != "held" {
		t.Fatalf("outcome %s, want held", held.Outcome)
	}
	waitFor(t, "the held plan's webhook and e-mail", 30*time.Second, func() bool { return len(webhooks(t, hook)) == 1 && len(mail.Mails()) == 1 })
	n := webhooks(t, hook)[0]
	if n.Kind != events.AlertRunHeld || n.State != events.AlertFiring || n.Job != "held-alerts" || n.Domain != "lab" || n.RunID != held.RunID ||
		!strings.Contains(n.Text, "deactivates 3 of 10 active accounts") || !strings.Contains(n.Text, "more than the job's limit of 10%") ||
		!strings.Contains(n.Text, "approve or discard") || n.Link != "https://adsync.example.com/held" || n.ID == "" {
		t.Fatalf("the held plan's webhook: %+v", n)
	}
	m := mail.Mails()[0]
	subject, body, err := m.Message()
	if err != nil || m.From != "adsync@example.com" || len(m.To) != 1 || m.To[0] != "iam-team@example.com" ||
		subject != "[adsync] job held-alerts: the deletion guard held the plan for domain lab" ||
		!strings.Contains(body, "deactivates 3 of 10 active accounts") || !strings.Contains(body, "https://adsync.example.com/held") {
		t.Fatalf("the held plan's e-mail (%v): %q\n%s", err, subject, body)
	}
	// The metrics say the same, for Prometheus's own rules.
	waitFor(t, "the held plan's gauge", 30*time.Second, func() bool { return metric(`adsync_held_plans{domain="lab",job="held-alerts"} 1`) })
	if !metric(`adsync_run_outcomes_total{job="held-alerts",outcome="held"} 1`) || !metric(`adsync_domain_last_success_timestamp_seconds{domain="lab",job="held-alerts"}`) {
		t.Error("the run outcome and last success metrics are missing")
	}
	// The next run is skipped while the plan is held: no second alert.
	if again, _ := sys.RunJob("held-alerts"); again.Outcome == "completed" {
		t.Fatalf("a run went on while a plan is held: %+v", again)
	}

	// The receiver goes down; the plan is approved, a good run resolves
	// the alert, and then a run fails.
	hook.SetDown(true)
	sys.MustCLI("run", "approve", held.RunID)
	sys.MustComplete("held-alerts")
	openldap.Stop(t)
	if failed, _ := sys.RunJob("held-alerts"); failed.Outcome != "failed" {
		t.Fatalf("outcome %s with the directory down, want failed", failed.Outcome)
	}
	waitFor(t, "the e-mails of the resolved and the failed run", 30*time.Second, func() bool { return len(mail.Mails()) == 3 })
	waitFor(t, "deliveries refused while the receiver is down", 30*time.Second, func() bool { _, refused, _ := hook.Accepted(); return refused >= 2 })
	// The failed deliveries are visible: events on the bus (adsync watch)
	// and the console's Notifications page, with the open alert.
	failed := countOnStream(t, sys, "ADSYNC_NOTIFY", "adsync.notification.failed.v1")
	if failed < 2 {
		t.Fatalf("%d notification.failed.v1 events while the receiver is down", failed)
	}
	if !metric(`adsync_notifications_total{channel="hook",result="retry"}`) || !metric(`adsync_notifications_total{channel="mail",result="sent"}`) {
		t.Error("adsync_notifications_total does not count the retries and the mails sent")
	}
	sys.MustCLIWithInput("console password 1\n", "admin", "add", "ops", "--role", "viewer")
	page := consoleGet(t, "http://"+listen, "ops", "console password 1", "/notifications")
	if !strings.Contains(page, "run.failed") || !strings.Contains(page, "503 Service Unavailable") || !strings.Contains(page, "retry in") {
		t.Fatalf("the Notifications page does not show the open alert and the failed deliveries:\n%s", page)
	}
	hook.SetDown(false)
	openldap.Start(t)
	sys.MustComplete("held-alerts")
	want := "run.held/firing run.held/resolved run.failed/firing run.failed/resolved"
	waitFor(t, "every alert once, after the receiver came back", time.Minute, func() bool { return len(webhooks(t, hook)) >= 4 && len(mail.Mails()) >= 4 })
	got := webhooks(t, hook)
	// Deliveries after an outage may come in any order; each once.
	seen := map[string]int{}
	for _, n := range got {
		seen[n.Kind+"/"+n.State]++
	}
	for _, w := range strings.Fields(want) {
		if seen[w] != 1 {
			t.Errorf("%s arrived %d times by webhook (all: %s)", w, seen[w], summary(got))
		}
	}
	if len(got) != 4 || len(mail.Mails()) != 4 {
		t.Fatalf("%d webhooks (%s) and %d e-mails, want 4 each", len(got), summary(got), len(mail.Mails()))
	}
	if subject, _, _ := mail.Mails()[3].Message(); !strings.HasPrefix(subject, "[adsync resolved]") {
		t.Errorf("the last e-mail is not a resolution: %q", subject)
	}
}

// A scheduled job without a good run for twice its interval alerts once
// (the injected clock passes the limit while the directory is down); a
// good run resolves it.
func TestAStaleJobAlertsAndAGoodRunResolvesIt(t *testing.T) {
	t.Parallel()
	openldap := slapd.Start(t, slapd.WithUsers(3))
	hook := receivers.Webhook(t, "hook-secret-0123456789")
	metricsAddr := freeAddr(t)
	sys := Start(t, []Domain{LDAPDomain("lab", openldap)}, WithConfig(notifyConfig(t, hook, nil, "job.stale")+"metrics:\n  listen: "+metricsAddr+"\n"))
	sys.MustCLI("job", "create", "hourly", "--all-domains", "--every", "1h", "--run-when", "scheduled")
	// The next run's gauge, for Prometheus's AdsyncJobOverdue.
	waitFor(t, "the next run's gauge", 30*time.Second, func() bool {
		_, b := httpGet(t, "http://"+metricsAddr+"/metrics")
		return strings.Contains(b, `adsync_job_next_run_timestamp_seconds{job="hourly"}`)
	})
	openldap.Stop(t)
	sys.Clock.Advance(90 * time.Minute) // one slot: it fails
	time.Sleep(3 * time.Second)         // the notifier checks every second: nothing yet (90 min < 2 h)
	if n := len(webhooks(t, hook)); n != 0 {
		t.Fatalf("%d alerts before the job is stale: %s", n, summary(webhooks(t, hook)))
	}
	sys.Clock.Advance(60 * time.Minute) // 2.5 h without a good run
	waitFor(t, "the stale job's alert", 30*time.Second, func() bool { return len(webhooks(t, hook)) == 1 })
	n := webhooks(t, hook)[0]
	if n.Kind != events.AlertJobStale || n.State != events.AlertFiring || n.Job != "hourly" || !strings.Contains(n.Text, "runs every 1h0m0s") {
		t.Fatalf("stale alert: %+v", n)
	}
	openldap.Start(t)
	sys.MustComplete("hourly")
	waitFor(t, "the resolution", 30*time.Second, func() bool { return len(webhooks(t, hook)) == 2 })
	if got := summary(webhooks(t, hook)); got != "job.stale/firing job.stale/resolved" {
		t.Fatalf("alerts: %s", got)
	}
}

// `adsync notify test` sends a test message on a channel, and says so;
// an unknown channel and a receiver that refuses are errors.
func TestNotifyTestSendsOnAChannel(t *testing.T) {
	t.Parallel()
	openldap := slapd.Start(t, slapd.WithUsers(1))
	hook := receivers.Webhook(t, "hook-secret-0123456789")
	mail := receivers.SMTP(t)
	sys := Start(t, []Domain{LDAPDomain("lab", openldap)}, WithConfig(notifyConfig(t, hook, mail, "run.held")))
	if out := sys.MustCLI("notify", "test", "hook"); !strings.Contains(out, "test message sent on hook") {
		t.Fatalf("notify test: %s", out)
	}
	if n := webhooks(t, hook); len(n) != 1 || n[0].Kind != events.AlertTest {
		t.Fatalf("webhooks: %+v", n)
	}
	sys.MustCLI("notify", "test", "mail")
	if subject, _, err := mail.Mails()[0].Message(); err != nil || subject != "[adsync] test message from adsync" {
		t.Fatalf("test e-mail: %q %v", subject, err)
	}
	if r := sys.CLI("notify", "test", "pager"); r.Err == nil || !strings.Contains(r.Err.Error(), `"pager" is not in notify.channels`) {
		t.Fatalf("an unknown channel: %v", r.Err)
	}
	hook.SetDown(true)
	if r := sys.CLI("notify", "test", "hook"); r.Err == nil || !strings.Contains(r.Err.Error(), "503") {
		t.Fatalf("a receiver that is down: %v", r.Err)
	}
}

// countOnStream counts a stream's messages on a subject.
func countOnStream(t *testing.T, sys *System, stream, subject string) int {
	t.Helper()
	js, err := jetstream.New(sys.Connect())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(subject))
	if err != nil {
		t.Fatal(err)
	}
	return int(info.State.Subjects[subject])
}

// consoleGet signs in to the console as a browser would (the sign-in
// form's CSRF cookie and field) and returns a page.
func consoleGet(t *testing.T, base, name, password, path string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := c.Get(base + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(raw)
	if m == nil {
		t.Fatalf("no CSRF field on the sign-in page:\n%s", raw)
	}
	resp, err = c.PostForm(base+"/signin", url.Values{"csrf": {string(m[1])}, "name": {name}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = c.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", path, resp.StatusCode, raw)
	}
	return string(raw)
}

package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/adsync/adsync/internal/testenv/slapd"
)

// consoleSystem starts adsync with the console and two local
// administrators: admin (role admin) and watcher (role viewer).
func consoleSystem(t *testing.T, openldap *slapd.Server, extra ...Option) (*System, string) {
	t.Helper()
	listen := freeAddr(t)
	token := writeSecret(t, filepath.Join(t.TempDir(), "token"), strings.Repeat("t0ken", 7))
	opts := append([]Option{WithConfig(fmt.Sprintf("http:\n  listen: %s\n  tokens:\n    - name: platform\n      token_file: %s\n      role: viewer\n", listen, token))}, extra...)
	sys := Start(t, []Domain{LDAPDomain("lab", openldap)}, opts...)
	sys.MustCLIWithInput("correct horse battery\n", "admin", "add", "admin", "--role", "admin")
	sys.MustCLIWithInput("viewer password 123\n", "admin", "add", "watcher", "--role", "viewer")
	return sys, "http://" + listen
}

// MustCLIWithInput runs a command with input that must succeed.
func (s *System) MustCLIWithInput(input string, args ...string) string {
	s.t.Helper()
	r := s.CLIWithInput(input, args...)
	if r.Err != nil {
		s.t.Fatalf("adsync %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.Err, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// The administrator's whole workflow in a real browser: sign in (a wrong
// password is refused), create the AD Sync Job through the New AD Sync Job
// dialog — Sync All Domains, Requeue if Job Fails, a Time Span Schedule
// that runs Immediately every 12 hours — and watch its first run, which
// fails while the directory is down, is requeued and completes, live on
// the run's page; then approve a plan the deletion guard held, and find an
// account and put it on a local hold. The audit log names the console
// user for each change.
func TestConsoleJobDialogLiveRunHeldPlanAndLocalHold(t *testing.T) {
	t.Parallel()
	openldap := slapd.Start(t, slapd.WithUsers(10), slapd.WithGroups(2))
	sys, base := consoleSystem(t, openldap)
	b := newBrowser(t, base)

	b.open("/jobs")
	b.waitText("h1", "Sign in", 10*time.Second)
	b.signIn("admin", "wrong password 123")
	b.waitText("#signin-error", "Wrong name or password, or no role in the console.", 10*time.Second)
	b.screenshot("signin-refused")
	b.signIn("admin", "correct horse battery")
	b.waitText("h1", "Scheduled Jobs", 10*time.Second)

	// The dialog, exactly as an administrator fills it in. The directory
	// is down, so that the first run fails and is requeued.
	openldap.Stop(t)
	b.do("open the dialog", chromedp.Click(chromedp.CSS("#new-job")), chromedp.WaitReady(chromedp.CSS("#job-form")))
	if !b.has("#all_domains:checked") || !b.has("#requeue:checked") || !b.has("#calendar-span:checked") || !b.has("#run-immediately:checked") ||
		eval[string](b, `document.querySelector("#hours").value`) != "12" {
		b.screenshot("dialog-defaults")
		t.Fatal("the dialog does not open on Sync All Domains, Requeue if Job Fails, Time Span Schedule, Immediately, every 12 hours")
	}
	b.do("fill in the dialog",
		chromedp.SendKeys(chromedp.CSS("#name"), "AD-Sync"),
		chromedp.SetValue(chromedp.CSS(`input[name="first_delay"]`), "1s"),
		chromedp.SetValue(chromedp.CSS(`input[name="longest_delay"]`), "2s"))
	b.screenshot("new-ad-sync-job")
	// A bad value is refused in place, with the command line's message.
	b.do("a too short span", chromedp.SetValue(chromedp.CSS("#hours"), "0"), chromedp.Click(chromedp.CSS("#save")), chromedp.WaitReady(chromedp.CSS("#form-error")))
	if msg := b.text("#form-error"); !strings.Contains(msg, "Time Span: give days, hours or minutes") {
		t.Fatalf("dialog error: %q", msg)
	}
	b.do("save", chromedp.SetValue(chromedp.CSS("#hours"), "12"), chromedp.Click(chromedp.CSS("#save")), chromedp.WaitReady(chromedp.CSS("#jobs")))
	b.waitText("#job-AD-Sync", "Time span: every 12 hours (first run immediately)", 10*time.Second)
	b.waitText("#job-AD-Sync", "All domains", time.Second)

	// The first run starts at once (Immediately); open it while it is
	// requeued, and watch it complete without reloading.
	var runLink string
	waitFor(t, "the first run to start", 30*time.Second, func() bool {
		b.open("/jobs")
		runLink = eval[string](b, `(document.querySelector("#job-AD-Sync td:nth-child(5) a") || {}).pathname || ""`)
		return runLink != ""
	})
	b.open(runLink)
	b.waitText("#progress", "requeued, next attempt in", 30*time.Second)
	b.screenshot("run-in-progress")
	eval[bool](b, `window.notReloaded = true`)
	openldap.Start(t)
	b.waitText("#progress", "outcome completed", 60*time.Second)
	if !eval[bool](b, `window.notReloaded === true`) {
		t.Fatal("the page reloaded: the run's progress did not come live")
	}
	b.waitText("#progress", "10 entries read", time.Second)
	b.screenshot("run-completed-live")
	b.open(runLink)
	b.waitText("#summary", "Outcome: completed", 10*time.Second)
	if !strings.Contains(b.text("#summary"), "attempt 1") {
		t.Errorf("the run's page does not show the failed attempt: %q", b.text("#summary"))
	}
	b.open("/jobs")
	b.waitText("#job-AD-Sync", "completed", 10*time.Second)
	b.screenshot("scheduled-jobs")

	// A plan the deletion guard holds, approved in the console.
	for i := 1; i <= 3; i++ { // 30% > 10%
		openldap.Delete(t, fmt.Sprintf("uid=user%07d,%s", i, openldap.UsersDN))
	}
	b.do("run now", chromedp.Click(chromedp.CSS("#job-AD-Sync .run-now")))
	b.waitText("#progress, #summary", "held", 60*time.Second) // live, or already over when the page came
	b.open("/held")
	b.waitText("#held-lab", "deactivates 3 of 10 active accounts", 10*time.Second)
	b.screenshot("held-plan")
	b.do("approve", chromedp.Click(chromedp.CSS("#held-lab .approve")))
	b.waitText("#messages", "is approved", 30*time.Second)
	waitFor(t, "the approved plan applied", time.Minute, func() bool { return activeCount(sys.Accounts("lab")) == 7 })

	// Find an account, put it on a local hold.
	b.open("/accounts")
	b.do("search", chromedp.SendKeys(chromedp.CSS("#q"), "user0000007"))
	b.waitText("#total", "1 accounts", 10*time.Second)
	if row := b.text("#accounts tbody"); !strings.Contains(row, "group-007, group-008") { // user i is in groups i and i+1 of 10
		t.Errorf("the account's row does not list its groups: %q", row)
	}
	b.do("open the account", chromedp.Click(chromedp.CSS("#accounts a")), chromedp.WaitReady(chromedp.CSS("#account")))
	b.do("hold", chromedp.SendKeys(chromedp.CSS("#reason"), "on leave"), chromedp.Click(chromedp.CSS("#hold")), chromedp.WaitReady(chromedp.CSS("#release")))
	b.waitText("#state", "local hold: on leave", 10*time.Second)
	b.waitText("#changes", "hold-set", 10*time.Second) // the account's recent changes, from the feed
	b.waitText("#changes", "created", time.Second)
	b.screenshot("account-on-hold")
	b.open("/accounts?hold=yes")
	b.waitText("#total", "1 accounts", 10*time.Second)
	b.open("/accounts?active=no&reason=directory-removed")
	b.waitText("#total", "3 accounts", 10*time.Second) // the approved plan's
	if a := ByUsername(t, sys.Accounts("lab"))["user0000007"]; a.Active || a.InactiveReason != "local" {
		t.Fatalf("the account after the hold: %+v", a)
	}
	audit := sys.MustCLI("audit", "list", "--actor", "console:admin")
	for _, want := range []string{"job.create", "plan.approve", "account.hold"} {
		if !strings.Contains(audit, want) {
			t.Errorf("the audit log has no %s by console:admin:\n%s", want, audit)
		}
	}
}

// A viewer sees nothing that changes anything, and the server refuses a
// change from them anyway; a change without the page's CSRF token is
// refused even for an admin; signing out ends the session.
func TestConsoleViewerAndCSRF(t *testing.T) {
	t.Parallel()
	openldap := slapd.Start(t, slapd.WithUsers(3))
	sys, base := consoleSystem(t, openldap)
	sys.MustCLI("job", "create", "lab-sync", "--all-domains")

	viewer := newBrowser(t, base)
	viewer.signIn("watcher", "viewer password 123")
	viewer.waitText("#job-lab-sync", "lab-sync", 10*time.Second)
	for _, sel := range []string{"#new-job", "#job-lab-sync button", "#job-lab-sync a[role=button]"} {
		if viewer.has(sel) {
			t.Errorf("a viewer sees %s", sel)
		}
	}
	viewer.screenshot("viewer-scheduled-jobs")
	// Readable at phone width: no page wider than the screen.
	viewer.do("phone width", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	for _, page := range []string{"/jobs", "/accounts", "/runs", "/held", "/audit", "/servers", "/notifications"} {
		viewer.open(page)
		if w := eval[int](viewer, `document.documentElement.scrollWidth - window.innerWidth`); w > 1 {
			viewer.screenshot("phone" + strings.ReplaceAll(page, "/", "-"))
			t.Errorf("%s is %d px wider than a 390 px screen", page, w)
		}
	}
	viewer.do("desktop width", chromedp.EmulateViewport(1440, 1000))
	csrf := eval[string](viewer, `JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRF-Token"]`)
	post := func(b *browser, path, token string) int {
		headers := `{}`
		if token != "" {
			headers = `{"X-CSRF-Token": ` + jsString(token) + `}`
		}
		return eval[int](b, `fetch(`+jsString(path)+`, {method: "POST", headers: `+headers+`, redirect: "manual"}).then(r => r.status)`)
	}
	if got := post(viewer, "/jobs/lab-sync/run", csrf); got != 403 {
		t.Errorf("a viewer's run request: %d, want 403", got)
	}
	if got := post(viewer, "/jobs/lab-sync/disable", csrf); got != 403 {
		t.Errorf("a viewer's disable request: %d, want 403", got)
	}

	adm := newBrowser(t, base)
	adm.signIn("admin", "correct horse battery")
	adm.waitText("#job-lab-sync", "lab-sync", 10*time.Second)
	if got := post(adm, "/jobs/lab-sync/disable", ""); got != 403 {
		t.Errorf("a change without the CSRF token: %d, want 403", got)
	}
	if got := post(adm, "/jobs/lab-sync/disable", "forged-token"); got != 403 {
		t.Errorf("a change with a forged CSRF token: %d, want 403", got)
	}
	if !strings.Contains(sys.MustCLI("job", "show", "lab-sync"), "enabled:   true") && !strings.Contains(sys.MustCLI("job", "show", "lab-sync"), "enabled:     true") {
		out := sys.MustCLI("job", "show", "lab-sync", "--json")
		if !strings.Contains(out, `"enabled":true`) {
			t.Fatalf("a refused request changed the job: %s", out)
		}
	}
	adm.do("sign out", chromedp.Click(chromedp.CSS("nav form button")), chromedp.WaitReady(chromedp.CSS("#signin")))
	adm.open("/jobs")
	adm.waitText("h1", "Sign in", 10*time.Second)
}

// Directory users sign in with their own password; a group they are in
// (nested) gives their role, and a user in no such group may not sign in.
func TestConsoleDirectorySignIn(t *testing.T) {
	t.Parallel()
	openldap := slapd.Start(t, slapd.WithUsers(3))
	for _, u := range []string{"user0000001", "user0000002"} {
		openldap.Modify(t, "uid="+u+","+openldap.UsersDN, "userPassword", u+"-password")
	}
	helpdesk := openldap.AddGroup(t, "helpdesk", "uid=user0000001,"+openldap.UsersDN)
	operators := openldap.AddGroup(t, "console-operators", helpdesk)
	sys, base := consoleSystem(t, openldap, WithConfig(fmt.Sprintf("console:\n  roles:\n    - domain: lab\n      group: %q\n      role: operator\n", operators)))
	sys.MustCLI("job", "create", "lab-sync", "--all-domains")

	b := newBrowser(t, base)
	b.signIn("user0000002@lab", "user0000002-password") // in no group with a role
	b.waitText("#signin-error", "no role in the console", 10*time.Second)
	b.signIn("lab\\user0000001", "wrong")
	b.waitText("#signin-error", "Wrong name or password", 10*time.Second)
	b.signIn("lab\\user0000001", "user0000001-password")
	b.waitText("nav", "user0000001@lab (operator)", 10*time.Second)
	if !b.has("#job-lab-sync .run-now") || b.has("#new-job") {
		t.Fatal("an operator sees Run now and not NEW AD SYNC JOB")
	}
	b.do("run now", chromedp.Click(chromedp.CSS("#job-lab-sync .run-now")))
	b.waitText("#progress, #summary", "completed", time.Minute) // live, or already over when the page came
	if !strings.Contains(sys.MustCLI("audit", "list", "--action", "job.run"), "console:user0000001@lab") {
		t.Fatal("the audit log does not name the directory user")
	}
}

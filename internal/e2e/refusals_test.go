package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/admin"
	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/internal/testenv"
	"github.com/adsync/adsync/internal/testenv/samba"
	"github.com/adsync/adsync/internal/testenv/slapd"
)

// Directories that cannot be read fail the run with a clear reason, and
// change no account.
func TestUnreadableDirectoryFailsTheRunAndChangesNothing(t *testing.T) {
	t.Parallel()
	dc := samba.Start(t)
	ou := dc.NewOU(t)
	dc.AddUsers(t, ou, samba.User{CN: "Someone", SAM: "someone" + newTag(t)})

	dir := t.TempDir()
	wrongPassword := filepath.Join(dir, "wrong.pass")
	const secret = "Not-The-Password-42"
	if err := os.WriteFile(wrongPassword, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	otherCA, err := testenv.WriteTLS(filepath.Join(dir, "other-ca"), []string{"dc1.corp.example.com"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	unreachable := ADDomain("down", dc, ou)
	unreachable.URL = "ldaps://" + freeAddr(t) // nothing listens there
	badBind := ADDomain("badbind", dc, ou)
	badBind.PasswordFile = wrongPassword
	wrongCA := ADDomain("wrongca", dc, ou)
	wrongCA.CAFile = otherCA.CAFile

	sys := Start(t, []Domain{unreachable, badBind, wrongCA})
	cases := []struct {
		domain string
		want   []string
	}{
		{"down", []string{"connection refused"}},
		{"badbind", []string{"invalid credentials", "Administrator@corp.example.com"}},
		{"wrongca", []string{"certificate signed by unknown authority"}},
	}
	for _, c := range cases {
		t.Run(c.domain, func(t *testing.T) {
			sys.MustCLI("job", "create", "job-"+c.domain, "--domain", c.domain)
			sum, err := sys.RunJob("job-" + c.domain)
			if err == nil || sum.Outcome != "failed" {
				t.Fatalf("outcome %s, err %v; want a failed run and a non-zero exit", sum.Outcome, err)
			}
			reason := strings.Join(sum.Reasons, " ")
			for _, w := range c.want {
				if !strings.Contains(reason, w) {
					t.Errorf("reason %q does not say %q", reason, w)
				}
			}
			if !strings.Contains(err.Error(), "failed") {
				t.Errorf("one-line error %q", err)
			}
			if strings.Contains(reason, secret) || strings.Contains(err.Error(), secret) {
				t.Fatal("the bind password appears in the run's reasons")
			}
			if d := sum.Domains[0]; d.Created+d.Updated+d.Deactivated+d.Reactivated != 0 {
				t.Errorf("a failed read changed accounts: %+v", d)
			}
		})
	}
	if n := len(sys.Accounts("")); n != 0 {
		t.Fatalf("%d accounts exist after failed reads only", n)
	}
	raw, _ := os.ReadFile(filepath.Join(sys.Dir, "adsync.log"))
	if strings.Contains(string(raw), secret) {
		t.Fatal("the bind password appears in the log")
	}
}

// While SAML or OpenID Connect sign-on is on, guard rejects every run and
// nothing is read or written.
func TestSingleSignOnRejectsEveryRun(t *testing.T) {
	t.Parallel()
	openldap := slapd.Start(t, slapd.WithUsers(3))
	sys := Start(t, []Domain{LDAPDomain("lab", openldap)})
	sys.MustCLI("sso", "enable", "oidc")
	sys.MustCLI("job", "create", "lab-sync", "--all-domains")

	sum, err := sys.RunJob("lab-sync")
	if err == nil || sum.Outcome != "rejected" {
		t.Fatalf("outcome %s err %v, want rejected and a non-zero exit", sum.Outcome, err)
	}
	if len(sum.Reasons) != 1 || !strings.Contains(sum.Reasons[0], "OpenID Connect single sign-on is enabled") {
		t.Fatalf("reasons %q", sum.Reasons)
	}
	if n := len(sys.Accounts("")); n != 0 {
		t.Fatalf("%d accounts written while SSO was on", n)
	}
	if sys.captured.count("adsync.directory.requested.v1")+sys.captured.count("adsync.directory.page.v1") != 0 {
		t.Fatal("the directory was read while SSO was on")
	}

	// Enabling SAML is refused while an enabled job exists; --force disables
	// the job, and then the rejection lists both reasons.
	r := sys.CLI("sso", "enable", "saml")
	if r.Err == nil || !strings.Contains(r.Err.Error(), "lab-sync") {
		t.Fatalf("sso enable with an enabled job: %v", r.Err)
	}
	out := sys.MustCLI("sso", "enable", "saml", "--force")
	if !strings.Contains(out, "disabled AD Sync Job lab-sync") {
		t.Fatalf("--force does not say what it disabled: %q", out)
	}
	sum, _ = sys.RunJob("lab-sync")
	got := strings.Join(sum.Reasons, "\n")
	for _, w := range []string{"SAML single sign-on is enabled", "OpenID Connect single sign-on is enabled", `job "lab-sync" is disabled`} {
		if !strings.Contains(got, w) {
			t.Errorf("rejection does not list %q:\n%s", w, got)
		}
	}

	// Both off and the job enabled: the run goes through.
	sys.MustCLI("sso", "disable", "saml")
	sys.MustCLI("sso", "disable", "oidc")
	sys.MustCLI("job", "enable", "lab-sync")
	sys.MustComplete("lab-sync")
	if n := len(sys.Accounts("lab")); n != 3 {
		t.Fatalf("%d accounts after SSO was turned off, want 3", n)
	}
}

// A malformed event on the bus is dead-lettered with its reason and the
// pipeline goes on.
func TestMalformedEventIsKeptAndThePipelineGoesOn(t *testing.T) {
	t.Parallel()
	openldap := slapd.Start(t, slapd.WithUsers(2))
	listen := freeAddr(t)
	token := writeSecret(t, filepath.Join(t.TempDir(), "token"), strings.Repeat("t0ken", 7))
	sys := Start(t, []Domain{LDAPDomain("lab", openldap)}, WithConfig(fmt.Sprintf("http:\n  listen: %s\n  tokens:\n    - {name: p, token_file: %s, role: viewer}\n", listen, token)))
	sys.MustCLI("job", "create", "lab-sync", "--all-domains")

	nc, err := nats.Connect(sys.NATSURL, sys.NATSOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	for _, payload := range []string{`{"run_id": 42}`, `not json at all`} {
		m := &nats.Msg{Subject: "adsync.sync.requested.v1", Data: []byte(payload), Header: nats.Header{Poison: []string{"1"}}}
		if err := nc.PublishMsg(m); err != nil {
			t.Fatal(err)
		}
	}
	_ = nc.Flush()

	sys.MustComplete("lab-sync")

	var dead []admin.DeadLetter
	waitFor(t, "two dead letters", 30*time.Second, func() bool {
		dead = nil
		_ = json.Unmarshal([]byte(sys.MustCLI("deadletter", "list", "--json")), &dead)
		return len(dead) == 2
	})
	for _, d := range dead {
		if d.Consumer != bus.ConsumerGuardRequested || d.Subject != "adsync.sync.requested.v1" || !strings.Contains(d.Reason, "malformed sync.requested.v1") {
			t.Errorf("dead letter %+v", d)
		}
	}
	var one admin.DeadLetter
	if err := json.Unmarshal([]byte(sys.MustCLI("deadletter", "show", fmt.Sprint(dead[1].Seq))), &one); err != nil || one.Raw != "not json at all" {
		t.Fatalf("deadletter show: %v %+v", err, one)
	}
	// The console shows it whole too.
	sys.MustCLIWithInput("console password 1\n", "admin", "add", "ops", "--role", "viewer")
	if page := consoleGet(t, "http://"+listen, "ops", "console password 1", fmt.Sprintf("/deadletters/%d", dead[1].Seq)); !strings.Contains(page, "not json at all") ||
		!strings.Contains(page, "malformed sync.requested.v1") {
		t.Fatalf("the console's dead letter page:\n%s", page)
	}
	sys.MustCLI("deadletter", "purge", "--all")
	if out := sys.MustCLI("deadletter", "list"); !strings.Contains(out, "no dead letters") {
		t.Fatalf("after purge: %s", out)
	}

	// Replay: a request that was dead-lettered (here put there by hand) is
	// published again on its subject and processed.
	js, _ := jetstream.New(nc)
	req := events.SyncRequested{Run: events.Run{RunID: "lab-sync-replayed", Job: "lab-sync", Trigger: events.TriggerManual, RequestedAt: time.Now().UTC()}}
	body, _ := json.Marshal(req)
	h := nats.Header{}
	h.Set(bus.HeaderDeadSubject, "adsync.sync.requested.v1")
	h.Set(bus.HeaderDeadConsumer, bus.ConsumerGuardRequested)
	h.Set(bus.HeaderDeadReason, "test")
	if _, err := js.PublishMsg(context.Background(), &nats.Msg{Subject: bus.DeadLetterSubjectPrefix + bus.ConsumerGuardRequested, Data: body, Header: h}); err != nil {
		t.Fatal(err)
	}
	sys.MustCLI("deadletter", "replay", "--all")
	waitFor(t, "the replayed run", 30*time.Second, func() bool { return outcomeOf(sys, "lab-sync", "lab-sync-replayed") == "completed" })
}

package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/internal/cli"
	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/internal/jobs"
	"github.com/adsync/adsync/internal/testenv/slapd"
)

// Only job servers schedule and read; without one, guard says so.
func TestJobsRunOnlyOnJobServers(t *testing.T) {
	t.Parallel()
	openldap := slapd.Start(t, slapd.WithUsers(2))
	sys := Start(t, []Domain{LDAPDomain("lab", openldap)}, WithConfig("job_server: false\n"))
	sys.MustCLI("job", "create", "lab-sync", "--all-domains", "--every", "12h", "--run-when", "immediately")

	stillRuns(t, sys, "lab-sync", 0) // tick idle: the immediate slot waits
	sum, err := sys.RunJob("lab-sync")
	if err == nil || sum.Outcome != "rejected" || !strings.Contains(strings.Join(sum.Reasons, ""), "no job server is available: set job_server: true on at least one server") {
		t.Fatalf("run without a job server: %+v %v", sum, err)
	}

	// A job server joins: its tick starts the due slot, its reader reads.
	jobServer := filepath.Join(sys.Dir, "jobserver.yaml")
	raw, _ := os.ReadFile(sys.ConfigPath)
	_ = os.WriteFile(jobServer, []byte(strings.Replace(string(raw), "job_server: false", "job_server: true", 1)), 0o600)
	sys.ServeWith("directory-reader", jobServer)
	sys.ServeWith("tick", jobServer)
	runs := waitRuns(t, sys, "lab-sync", 1)
	if runs[0].Outcome != "completed" || runs[0].Totals.Created != 2 {
		t.Fatalf("scheduled run on the job server: %+v", runs[0])
	}
}

// Jobs are bound to the environment they were created in: a job found in
// another environment is never run, and import refuses them.
func TestJobsAreNeverImportedFromAnotherEnvironment(t *testing.T) {
	t.Parallel()
	openldap := slapd.Start(t, slapd.WithUsers(1))
	sys := Start(t, []Domain{LDAPDomain("lab", openldap)})
	sys.MustCLI("job", "create", "local", "--all-domains")
	sys.MustCLI("sso", "enable", "saml", "--force")

	export := filepath.Join(sys.Dir, "export.json")
	sys.MustCLI("job", "export", "-o", export)
	var ex cli.Export
	raw, _ := os.ReadFile(export)
	if err := json.Unmarshal(raw, &ex); err != nil || len(ex.Jobs) != 1 || !ex.SSO["saml"].Enabled || !strings.HasPrefix(ex.Environment, "env-") {
		t.Fatalf("export: %v %+v", err, ex)
	}
	sys.MustCLI("sso", "disable", "saml")
	sys.MustCLI("job", "enable", "local")

	// A job copied from another installation's bucket.
	nc, err := nats.Connect(sys.NATSURL, sys.NATSOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	kv, err := js.KeyValue(context.Background(), bus.BucketJobs)
	if err != nil {
		t.Fatal(err)
	}
	foreign := &jobs.Job{Name: "copied", Enabled: true, AllDomains: true, Environment: "env-0123456789ab", CreatedAt: time.Now().UTC()}
	body, _ := json.Marshal(foreign)
	if _, err := kv.Put(context.Background(), "job.copied", body); err != nil {
		t.Fatal(err)
	}
	sum, err := sys.RunJob("copied")
	want := `created in environment env-0123456789ab; AD Sync Jobs must be created on each environment`
	if err == nil || sum.Outcome != "rejected" || !strings.Contains(strings.Join(sum.Reasons, ""), want) {
		t.Fatalf("copied job: %+v %v", sum, err)
	}
	if n := len(sys.Accounts("")); n != 0 {
		t.Fatalf("a foreign job wrote %d accounts", n)
	}

	// Import of an export from another environment: settings come, jobs
	// are refused with the same words.
	ex.Environment = "env-0123456789ab"
	ex.Jobs[0].Environment = "env-0123456789ab"
	ex.Jobs[0].Name = "from-elsewhere"
	body, _ = json.Marshal(ex)
	_ = os.WriteFile(export, body, 0o600)
	r := sys.CLI("job", "import", export)
	if r.Err == nil || !strings.Contains(r.Err.Error(), want) || !strings.Contains(r.Stdout, "imported SAML single sign-on: enabled=true") {
		t.Fatalf("import: %v\n%s", r.Err, r.Stdout)
	}
	if r := sys.CLI("job", "show", "from-elsewhere"); r.Err == nil {
		t.Fatal("a job from another environment was imported")
	}
	if !strings.Contains(sys.MustCLI("sso", "status"), "SAML: enabled") {
		t.Fatal("the SSO setting was not imported")
	}
	sys.MustCLI("sso", "disable", "saml")
	sys.MustComplete("local")
}

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"github.com/segmentio/encoding/json"

	"github.com/adsync/adsync/internal/app"
	"github.com/adsync/adsync/internal/cli"
	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/internal/infra/embeddednats"
	"github.com/adsync/adsync/internal/testenv/slapd"
)

// What an operator looks at while a run goes: Prometheus metrics and
// health, the NATS service framework, `adsync watch --json`, and JSON logs
// that carry run_id, domain and service.
func TestMonitoringOfARun(t *testing.T) {
	t.Parallel()
	const users = 30
	// The metrics registry is the test binary's: a domain name no other
	// test (nor another run of this one, -count) uses keeps this test's
	// per-domain series its own.
	domain := "monitored-" + newTag(t)
	openldap := slapd.Start(t, slapd.WithUsers(users))
	metricsAddr := freeAddr(t)
	sys := startJSONLog(t, []Domain{LDAPDomain(domain, openldap)}, WithConfig("metrics:\n  listen: "+metricsAddr+"\n"))

	watch := startWatch(t, sys)
	sys.MustCLI("job", "create", "mon-sync", "--all-domains")
	sum := sys.MustComplete("mon-sync")
	if c, _, _, _, _ := Counts(t, sum, domain); c != users {
		t.Fatalf("created %d, want %d", c, users)
	}

	t.Run("metrics", func(t *testing.T) {
		base := "http://" + metricsAddr
		for _, path := range []string{"/healthz", "/readyz"} {
			if code, body := httpGet(t, base+path); code != http.StatusOK {
				t.Errorf("%s: %d %s", path, code, body)
			}
		}
		cases := []struct {
			series string
			check  func(v float64) bool
			want   string
		}{
			{`adsync_runs_total{outcome="completed"}`, func(v float64) bool { return v >= 1 }, ">= 1"},
			{`adsync_directory_entries_read_total{domain="` + domain + `",mode="full"}`, func(v float64) bool { return v == users }, strconv.Itoa(users)},
			{`adsync_account_changes_applied_total{domain="` + domain + `",op="create"}`, func(v float64) bool { return v == users }, strconv.Itoa(users)},
			{`adsync_messages_handled_total{consumer="writer-account-changes",result="ack"}`, func(v float64) bool { return v >= 1 }, ">= 1"},
			{`adsync_phase_duration_seconds_count{phase="read"}`, func(v float64) bool { return v >= 1 }, ">= 1"},
			{`adsync_phase_duration_seconds_count{phase="apply"}`, func(v float64) bool { return v >= 1 }, ">= 1"},
			{`adsync_handler_duration_seconds_count{consumer="diff-directory-page"}`, func(v float64) bool { return v >= 1 }, ">= 1"},
		}
		// The writer counts a run's changes once it has published the
		// run's end: the scrape waits for every series to be there.
		var body string
		all := func() bool {
			code, b := httpGet(t, base+"/metrics")
			if code != http.StatusOK {
				return false
			}
			body = b
			for _, c := range cases {
				if v, ok := sample(b, c.series); !ok || !c.check(v) {
					return false
				}
			}
			return true
		}
		for deadline := time.Now().Add(10 * time.Second); !all() && time.Now().Before(deadline); {
			time.Sleep(50 * time.Millisecond)
		}
		for _, c := range cases {
			t.Run(c.series, func(t *testing.T) {
				v, ok := sample(body, c.series)
				if !ok {
					t.Fatalf("no sample %s in /metrics", c.series)
				}
				if !c.check(v) {
					t.Fatalf("%s = %v, want %s", c.series, v, c.want)
				}
			})
		}
	})

	t.Run("service framework", func(t *testing.T) {
		nc, err := nats.Connect(sys.NATSURL, sys.NATSOptions()...)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		for _, svc := range app.AllServices {
			t.Run(svc, func(t *testing.T) {
				var info micro.Info
				microRequest(t, nc, micro.InfoVerb, "adsync-"+svc, &info)
				if info.Version != cli.Version {
					t.Errorf("version %q, want %q", info.Version, cli.Version)
				}
				if info.Metadata["job_server"] != "true" {
					t.Errorf("metadata %v: want job_server=true", info.Metadata)
				}
				var stats micro.Stats
				microRequest(t, nc, micro.StatsVerb, "adsync-"+svc, &stats)
				var status struct {
					Service   string                       `json:"service"`
					JobServer bool                         `json:"job_server"`
					Consumers map[string]bus.ConsumerStats `json:"consumers"`
				}
				for _, e := range stats.Endpoints {
					if e.Name == "status" {
						if err := json.Unmarshal(e.Data, &status); err != nil {
							t.Fatalf("status stats: %v", err)
						}
					}
				}
				if status.Service != svc || !status.JobServer {
					t.Fatalf("stats of the status endpoint: %+v", status)
				}
				var acked int64
				for _, c := range status.Consumers {
					acked += c.Acked
				}
				// tick has no consumer: it publishes scheduled runs only.
				if svc != app.Tick && acked == 0 {
					t.Errorf("no message acknowledged after a run: %+v", status.Consumers)
				}
			})
		}
	})

	t.Run("watch --json", func(t *testing.T) {
		lines := watch.waitFor(t, "sync.completed.v1 of the run", func(obj map[string]any) bool {
			return obj["name"] == "sync.completed.v1" && obj["run_id"] == sum.RunID
		})
		seen := map[string]bool{}
		for _, obj := range lines {
			if obj["run_id"] != sum.RunID {
				continue
			}
			name, _ := obj["name"].(string)
			seen[name] = true
			if ev, _ := obj["event"].(map[string]any); ev == nil || ev["run_id"] != sum.RunID {
				t.Errorf("%s: the event is missing or has another run: %v", name, obj)
			}
			if strings.HasPrefix(name, "directory.") || strings.HasPrefix(name, "account.") || strings.HasPrefix(name, "changes.") {
				if obj["domain"] != domain {
					t.Errorf("%s has domain %v, want %s", name, obj["domain"], domain)
				}
			}
		}
		for _, name := range []string{"sync.requested.v1", "sync.approved.v1", "directory.requested.v1", "directory.page.v1",
			"directory.completed.v1", "account.changes.v1", "changes.completed.v1", "sync.completed.v1"} {
			if !seen[name] {
				t.Errorf("watch printed no %s of the run", name)
			}
		}
	})

	t.Run("json logs", func(t *testing.T) {
		// The last line of the run (the writer's "run finished") may still
		// be on its way to the file when the summary arrives.
		var lines []map[string]any
		waitFor(t, "the run's last log line", 20*time.Second, func() bool {
			lines = runLogLines(t, filepath.Join(sys.Dir, "adsync.log"), sum.RunID)
			for _, l := range lines {
				if l["msg"] == "run finished" {
					return true
				}
			}
			return false
		})
		services := map[string]bool{}
		domainFinished := false
		for _, l := range lines {
			svc, _ := l["service"].(string)
			if svc == "" {
				t.Errorf("a line of the run has no service: %v", l)
			}
			services[svc] = true
			// Every line about a domain's event names the domain; "run
			// finished" is about the whole run.
			if subj, _ := l["subject"].(string); l["msg"] != "run finished" && (strings.Contains(subj, "directory.") || strings.Contains(subj, "changes.")) {
				if l["domain"] != domain {
					t.Errorf("a line about %s has domain %v, want %s: %v", subj, l["domain"], domain, l)
				}
			}
			if l["msg"] == "domain finished" {
				domainFinished = true
				if l["domain"] != domain {
					t.Errorf("domain finished: domain %v, want %s: %v", l["domain"], domain, l)
				}
			}
			if _, ok := l["result_domain"]; ok {
				t.Errorf("a line still says result_domain: %v", l)
			}
		}
		if !domainFinished {
			t.Error("no domain finished line")
		}
		for _, svc := range []string{app.Guard, app.DirectoryReader, app.Diff, app.AccountWriter} {
			if !services[svc] {
				t.Errorf("no log line of the run from %s", svc)
			}
		}
	})
}

// /readyz answers 503 while the process has lost NATS, and 200 again once
// it is back; /healthz stays 200 (the process is alive).
func TestReadinessFollowsTheNATSConnection(t *testing.T) {
	t.Parallel()
	store, listen := t.TempDir(), freeAddr(t)
	srv, err := embeddednats.Start(embeddednats.Options{StoreDir: store, Listen: listen})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Shutdown() }()
	dir := t.TempDir()
	pw := filepath.Join(dir, "bind.pass")
	if err := os.WriteFile(pw, []byte("unused\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// guard reads no directory: the domain is only named.
	lab := Domain{Name: "lab", Type: "ldap", URL: "ldap://127.0.0.1:1", InsecurePlaintext: true, BindDN: "cn=x", PasswordFile: pw, BaseDN: "dc=x"}
	sys := &System{t: t, Dir: dir, listen: "127.0.0.1:1", domains: []Domain{lab}, natsExtra: "  url: nats://" + listen + "\n"}
	sys.ConfigPath = filepath.Join(sys.Dir, "adsync.yaml")
	sys.writeConfig()
	metricsAddr := freeAddr(t)
	var logBuf syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	var once sync.Once
	done := make(chan error, 1)
	go func() {
		done <- cli.Run(ctx, []string{"serve", app.Guard, "-c", sys.ConfigPath, "--metrics", metricsAddr}, cli.Env{
			Stdout: &logBuf, Stderr: &logBuf, Ready: func() { once.Do(func() { close(ready) }) },
		})
	}()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("adsync serve guard stopped: %v\n%s", err, logBuf.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("adsync serve guard did not start:\n%s", logBuf.String())
	}
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("adsync serve guard did not stop cleanly: %v\n%s", err, logBuf.String())
		}
	}()
	readyz := func() int { code, _ := httpGet(t, "http://"+metricsAddr+"/readyz"); return code }
	waitFor(t, "/readyz 200 once running", 20*time.Second, func() bool { return readyz() == http.StatusOK })

	srv.Shutdown()
	waitFor(t, "/readyz 503 without NATS", 20*time.Second, func() bool { return readyz() == http.StatusServiceUnavailable })
	if code, _ := httpGet(t, "http://"+metricsAddr+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz without NATS: %d, want 200", code)
	}
	_, body := httpGet(t, "http://"+metricsAddr+"/readyz")
	if !strings.Contains(body, "not connected to NATS") {
		t.Errorf("/readyz says %q, want the reason", body)
	}

	srv, err = embeddednats.Start(embeddednats.Options{StoreDir: store, Listen: listen})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "/readyz 200 once NATS is back", 30*time.Second, func() bool { return readyz() == http.StatusOK })
}

// startJSONLog is Start with log.format: json.
func startJSONLog(t *testing.T, domains []Domain, opts ...Option) *System {
	t.Helper()
	return Start(t, domains, append(opts, WithJSONLog())...)
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// sample returns the value of one series in a Prometheus text exposition.
func sample(exposition, series string) (float64, bool) {
	for _, line := range strings.Split(exposition, "\n") {
		rest, ok := strings.CutPrefix(line, series+" ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
		return v, err == nil
	}
	return 0, false
}

// microRequest asks the one instance of a service a NATS service framework
// question ($SRV.INFO.name, $SRV.STATS.name).
func microRequest(t *testing.T, nc *nats.Conn, verb micro.Verb, name string, into any) {
	t.Helper()
	subject, err := micro.ControlSubject(verb, name, "")
	if err != nil {
		t.Fatal(err)
	}
	m, err := nc.Request(subject, nil, 5*time.Second)
	if err != nil {
		t.Fatalf("%s: %v", subject, err)
	}
	if err := json.Unmarshal(m.Data, into); err != nil {
		t.Fatalf("%s: %v: %s", subject, err, m.Data)
	}
}

// runLogLines returns the JSON log lines of one run.
func runLogLines(t *testing.T, path, runID string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.Contains(line, []byte(runID)) {
			continue
		}
		var obj map[string]any
		if err := json.Unmarshal(line, &obj); err != nil {
			t.Errorf("a log line is not JSON: %s", line)
			continue
		}
		if obj["run_id"] != runID {
			continue
		}
		if n := bytes.Count(line, []byte(`"domain":`)); n > 1 {
			t.Errorf("a log line has %d domain keys: %s", n, line)
		}
		out = append(out, obj)
	}
	return out
}

// watcher is a running `adsync watch --json`.
type watcher struct{ out *syncBuffer }

func startWatch(t *testing.T, sys *System) *watcher {
	t.Helper()
	w := &watcher{out: &syncBuffer{}}
	var errb syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	var once sync.Once
	done := make(chan error, 1)
	go func() {
		done <- cli.Run(ctx, []string{"watch", "--json", "-c", sys.ConfigPath}, cli.Env{
			Stdout: w.out, Stderr: &errb, Ready: func() { once.Do(func() { close(ready) }) },
		})
	}()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("adsync watch stopped: %v: %s", err, errb.String())
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("adsync watch did not subscribe")
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("adsync watch: %v", err)
		}
	})
	return w
}

// waitFor polls the output until a line matches, checks that every line is
// one JSON object, and returns them.
func (w *watcher) waitFor(t *testing.T, what string, match func(map[string]any) bool) []map[string]any {
	t.Helper()
	var objs []map[string]any
	waitFor(t, what, 30*time.Second, func() bool {
		objs = objs[:0]
		found := false
		for _, line := range strings.Split(strings.TrimSuffix(w.out.String(), "\n"), "\n") {
			if line == "" {
				continue
			}
			var obj map[string]any
			if err := json.Unmarshal([]byte(line), &obj); err != nil {
				t.Fatalf("watch --json printed a line that is not one JSON object: %q", line)
			}
			objs = append(objs, obj)
			found = found || match(obj)
		}
		return found
	})
	return objs
}

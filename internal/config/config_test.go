package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "adsync.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const good = `
data_dir: ./data
domains:
  - name: corp
    url: ldaps://dc1.corp.example.com:636
    bind_dn: svc-adsync@corp.example.com
    bind_password_env: CORP_PASSWORD
    base_dn: DC=corp,DC=example,DC=com
`

func TestLoadGoodConfigAppliesDefaults(t *testing.T) {
	p := write(t, good)
	f, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if f.NATS.Listen != "127.0.0.1:4222" || f.NATS.Replicas != 1 || !f.IsJobServer() {
		t.Errorf("defaults: %+v job_server=%v", f.NATS, f.IsJobServer())
	}
	if f.DataDir != filepath.Join(filepath.Dir(p), "data") {
		t.Errorf("data_dir %q is not relative to the config file", f.DataDir)
	}
	if f.Domains[0].Type != "active_directory" {
		t.Errorf("type default = %q", f.Domains[0].Type)
	}
	if f.Process.CPUScheduling != "batch" {
		t.Errorf("process.cpu_scheduling default = %q, want batch", f.Process.CPUScheduling)
	}
}

func TestBadConfigListsEveryProblem(t *testing.T) {
	cases := []struct {
		name string
		body string
		want []string
	}{
		{"missing base_dn", strings.ReplaceAll(good, "    base_dn: DC=corp,DC=example,DC=com\n", ""), []string{`domain "corp": base_dn is required`}},
		{"password in yaml", good + "    bind_password: hunter2\n", []string{`domain "corp": bind_password must not be written in the configuration file`}},
		{"no password source", strings.ReplaceAll(good, "    bind_password_env: CORP_PASSWORD\n", ""), []string{`domain "corp": bind_password_file or bind_password_env is required`}},
		{"bad scheme", strings.ReplaceAll(good, "ldaps://dc1", "http://dc1"), []string{`domain "corp": url "http://dc1.corp.example.com:636"`}},
		{"bad filter", good + "    user_filter: (objectClass=user\n", []string{`domain "corp": user_filter "(objectClass=user"`}},
		{"several at once", `
domains:
  - name: corp
    url: ldaps://x
  - name: corp
    type: novell
    url: ldap://y
    bind_dn: a
    bind_password_env: X
    base_dn: dc=y
    page_size: 5000
`, []string{
			`domain "corp": bind_dn is required`,
			`domain "corp": base_dn is required`,
			`domain "corp": defined twice`,
			`domain "corp": type "novell"`,
		}},
		{"no domains", "data_dir: ./x\n", []string{"domains: at least one domain is required"}},
		{"unknown key (typo)", good + "jobserver: true\n", []string{"field jobserver not found"}},
		{"entries per event out of range", good + "directory_reader:\n  entries_per_event: -5\n", []string{"directory_reader.entries_per_event: -5 is out of range"}},
		{"bad duration", good + "guard:\n  run_lease: soon\n", []string{`"soon" is not a duration`}},
		{"unknown CPU scheduling", good + "process:\n  cpu_scheduling: realtime\n", []string{`process.cpu_scheduling: "realtime" is not one of batch, normal`}},
		{"feed kept too briefly", good + "feed:\n  max_age: 10m\n", []string{"feed.max_age: 10m0s is too short"}},
		{"http without tokens", good + "http:\n  listen: 127.0.0.1:8080\n", []string{"http.tokens: at least one token is needed"}},
		{"http token without role or secret", good + "http:\n  listen: 127.0.0.1:8080\n  tokens:\n    - name: p\n      role: root\n", []string{`http.tokens[0] (p): role "root" is not one of viewer, operator, admin`, "http.tokens[0] (p): set token_file or token_env"}},
		{"http token named twice", good + "http:\n  listen: 127.0.0.1:8080\n  tokens:\n    - {name: p, token_env: A, role: viewer}\n    - {name: p, token_env: B, role: admin}\n", []string{`http.tokens: "p" is named twice`}},
		{"webhook over http to another host", good + "notify:\n  channels:\n    - {name: hook, type: webhook, url: \"http://hooks.example.com/x\", secret_env: S}\n",
			[]string{`notify.channels[0] (hook): url "http://hooks.example.com/x": http:// only to a loopback address; use https://`}},
		{"webhook without a secret", good + "notify:\n  channels:\n    - {name: hook, type: webhook, url: \"https://hooks.example.com/x\"}\n",
			[]string{"notify.channels[0] (hook): set secret_file or secret_env"}},
		{"e-mail without recipients, a rule for nothing", good + "notify:\n  channels:\n    - {name: m, type: email, smtp: mail.example.com, from: a@example.com}\n  rules:\n    - {events: [run.exploded], channels: [pager]}\n",
			[]string{`notify.channels[0] (m): smtp "mail.example.com" is not host:port`, "notify.channels[0] (m): from and to are required",
				`notify.rules[0]: event "run.exploded" is not one of run.held`, `notify.rules[0]: channel "pager" is not in notify.channels`}},
		{"console role of an unknown domain", good + "console:\n  roles:\n    - {domain: lab, group: \"not a dn\", role: god}\n",
			[]string{`console.roles[0]: domain "lab" is not configured`, `console.roles[0]: group "not a dn" is not a DN`, `console.roles[0]: role "god"`}},
		{"bad domain name", strings.ReplaceAll(good, "name: corp", "name: corp.example"), []string{`domain "corp.example": name may only contain`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(write(t, c.body))
			if err == nil {
				t.Fatal("bad config accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestSecretsComeFromFileOrEnvAndNeverShow(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("s3cret-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	_ = os.WriteFile(empty, nil, 0o600)
	env := func(k string) (string, bool) {
		switch k {
		case "CORP_PASSWORD":
			return "s3cret-env", true
		case "EMPTY":
			return "", true
		}
		return "", false
	}
	cases := []struct {
		name, file, env string
		want            string
		wantErr         string
	}{
		{"file", pwFile, "", "s3cret-file", ""},
		{"env", "", "CORP_PASSWORD", "s3cret-env", ""},
		{"missing env", "", "NOPE", "", "environment variable NOPE is not set"},
		{"empty env", "", "EMPTY", "", "environment variable EMPTY is empty"},
		{"empty file", empty, "", "", "is empty"},
		{"missing file", filepath.Join(dir, "nope"), "", "", "no such file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := Domain{Name: "corp", BindPasswordFile: c.file, BindPasswordEnv: c.env}
			got, err := d.BindPasswordValue(env)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("got %q, %v", got, err)
			}
			if s := d.Directory(got).String(); strings.Contains(s, got) {
				t.Fatalf("directory settings print the password: %s", s)
			}
		})
	}
}

// API tokens come from their files or the environment; a short one is
// refused with a way to make a good one, and never shown.
func TestAPITokens(t *testing.T) {
	env := func(k string) (string, bool) {
		switch k {
		case "GOOD":
			return "0123456789abcdef0123", true
		case "SHORT":
			return "guessme", true
		}
		return "", false
	}
	for _, c := range []struct{ tokenEnv, wantErr string }{
		{"GOOD", ""},
		{"SHORT", "shorter than 16 characters (make one with: openssl rand -hex 32)"},
		{"MISSING", "environment variable MISSING is not set"},
	} {
		f, err := Load(write(t, good+"http:\n  listen: 127.0.0.1:8080\n  tokens:\n    - {name: platform, token_env: "+c.tokenEnv+", role: operator}\n"))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := f.APIConfig(env)
		switch {
		case c.wantErr == "" && (err != nil || len(cfg.Tokens) != 1 || cfg.Tokens[0].Secret != "0123456789abcdef0123" || cfg.Tokens[0].Role.String() != "operator"):
			t.Errorf("%s: %+v %v", c.tokenEnv, cfg.Tokens, err)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("%s: error %v, want %q", c.tokenEnv, err, c.wantErr)
		case err != nil && strings.Contains(err.Error(), "guessme"):
			t.Errorf("the error shows the token: %v", err)
		}
	}
}

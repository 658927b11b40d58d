package clustertest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/adsync/adsync/internal/app"
	"github.com/adsync/adsync/internal/config"
	"github.com/adsync/adsync/internal/testenv"
)

const kubernetesDir = "../../deploy/kubernetes"

// The Kubernetes manifests parse, and run least privilege: every service
// with its own NATS user, its own password and nats.provision: false, the
// provision Job as the administrator. Cheap: no cluster (runs under -short).
func TestKubernetesManifests(t *testing.T) {
	docs := map[string]map[string]any{} // kind/name → manifest
	var kust struct {
		Resources []string `yaml:"resources"`
	}
	readYAML(t, filepath.Join(kubernetesDir, "kustomization.yaml"), func(raw []byte) {
		if err := yaml.Unmarshal(raw, &kust); err != nil {
			t.Fatal(err)
		}
	})
	files, _ := filepath.Glob(filepath.Join(kubernetesDir, "*.yaml"))
	for _, f := range files {
		if base := filepath.Base(f); base != "kustomization.yaml" && !slices.Contains(kust.Resources, base) {
			t.Errorf("%s is not in kustomization.yaml", base)
		}
	}
	for _, res := range kust.Resources {
		readYAML(t, filepath.Join(kubernetesDir, res), func(raw []byte) {
			dec := yaml.NewDecoder(bytes.NewReader(raw))
			for {
				var doc map[string]any
				err := dec.Decode(&doc)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("%s: %v", res, err)
				}
				kind, name := str(doc, "kind"), str(doc, "metadata", "name")
				if kind == "" || name == "" || str(doc, "apiVersion") == "" {
					t.Fatalf("%s: a document without apiVersion, kind or metadata.name", res)
				}
				if kind != "Namespace" && str(doc, "metadata", "namespace") != "adsync" {
					t.Errorf("%s %s: namespace %q, want adsync", kind, name, str(doc, "metadata", "namespace"))
				}
				docs[kind+"/"+name] = doc
			}
		})
	}
	readYAML(t, filepath.Join(kubernetesDir, "nats", "values.yaml"), func(raw []byte) {
		var v map[string]any
		if err := yaml.Unmarshal(raw, &v); err != nil {
			t.Fatalf("nats/values.yaml: %v", err)
		}
	})

	cm := docs["ConfigMap/adsync-config"]
	secret := docs["Secret/adsync-secrets"]
	if cm == nil || secret == nil {
		t.Fatalf("no ConfigMap adsync-config or Secret adsync-secrets: %v", slices.Collect(maps.Keys(docs)))
	}
	data, _ := cm["data"].(map[string]any)
	secrets, _ := secret["stringData"].(map[string]any)
	accountsConf, err := os.ReadFile(accountsFile)
	if err != nil {
		t.Fatal(err)
	}

	// Loading a configuration reads every domain's ca_file: the test's CA
	// stands in for the shipped paths.
	tlsFiles, err := testenv.WriteTLS(t.TempDir(), []string{"localhost"}, nil)
	if err != nil {
		t.Fatal(err)
	}

	// The six configurations are valid and the same but for nats.user and
	// nats.provision.
	var common map[string]any
	cases := []struct{ key, user, workload, passwordKey string }{
		{"admin.yaml", "adsync-admin", "Job/adsync-provision", "nats-password-admin"},
	}
	for _, svc := range app.AllServices {
		cases = append(cases, struct{ key, user, workload, passwordKey string }{svc + ".yaml", "adsync-" + svc, "Deployment/adsync-" + svc, "nats-password-" + svc})
	}
	for _, c := range cases {
		t.Run(c.key, func(t *testing.T) {
			text, _ := data[c.key].(string)
			if text == "" {
				t.Fatalf("the ConfigMap has no %s", c.key)
			}
			var generic map[string]any
			if err := yaml.Unmarshal([]byte(text), &generic); err != nil {
				t.Fatal(err)
			}
			// Every file the configuration names must be in the pod.
			files := []string{str(generic, "nats", "ca_file")}
			for _, d := range list(generic["domains"]) {
				files = append(files, fmt.Sprint(d["ca_file"]))
			}
			local := text
			for _, f := range files[1:] {
				local = strings.ReplaceAll(local, f, tlsFiles.CAFile)
			}
			f, err := config.Parse(c.key, []byte(local))
			if err != nil {
				t.Fatalf("%s: %v", c.key, err)
			}
			if f.NATS.User != c.user {
				t.Errorf("nats.user %q, want %q", f.NATS.User, c.user)
			}
			if !strings.Contains(string(accountsConf), "user: "+c.user+",") {
				t.Errorf("deploy/nats/cluster/accounts.conf has no user %s", c.user)
			}
			if admin := c.user == "adsync-admin"; f.ShouldProvision() != admin {
				t.Errorf("nats.provision %v for %s", f.ShouldProvision(), c.user)
			}
			nats, _ := generic["nats"].(map[string]any)
			delete(nats, "user")
			delete(nats, "provision")
			if common == nil {
				common = generic
			} else if !reflect.DeepEqual(common, generic) {
				t.Errorf("%s differs from admin.yaml in more than nats.user and nats.provision", c.key)
			}

			w := docs[c.workload]
			if w == nil {
				t.Fatalf("no %s", c.workload)
			}
			pod, _ := dig(w, "spec", "template", "spec").(map[string]any)
			containers, _ := pod["containers"].([]any)
			if len(containers) != 1 {
				t.Fatalf("%s: %d containers", c.workload, len(containers))
			}
			ctr, _ := containers[0].(map[string]any)
			mounted := false
			for _, m := range list(ctr["volumeMounts"]) {
				if m["name"] == "config" && m["mountPath"] == "/etc/adsync/adsync.yaml" {
					mounted = m["subPath"] == c.key
				}
			}
			if !mounted {
				t.Errorf("%s does not mount %s as /etc/adsync/adsync.yaml", c.workload, c.key)
			}
			for _, f := range files {
				found := false
				for _, m := range list(ctr["volumeMounts"]) {
					mp := fmt.Sprint(m["mountPath"])
					found = found || mp == f || strings.HasPrefix(f, mp+"/")
				}
				if !found {
					t.Errorf("%s: %s names %s, which the pod does not mount", c.workload, c.key, f)
				}
			}
			password := ""
			var envNames []string
			for _, e := range list(ctr["env"]) {
				envNames = append(envNames, fmt.Sprint(e["name"]))
				if e["name"] == "ADSYNC_NATS_PASSWORD" {
					password = str(e, "valueFrom", "secretKeyRef", "key")
				}
			}
			if password != c.passwordKey {
				t.Errorf("%s: ADSYNC_NATS_PASSWORD from %q, want %q", c.workload, password, c.passwordKey)
			}
			if _, ok := secrets[c.passwordKey]; !ok {
				t.Errorf("the Secret has no %s", c.passwordKey)
			}
			if f.NATS.PasswordEnv != "ADSYNC_NATS_PASSWORD" {
				t.Errorf("nats.password_env %q", f.NATS.PasswordEnv)
			}
			// Only directory-reader gets the bind passwords.
			if hasBind := slices.Contains(envNames, "ADSYNC_CORP_BIND_PASSWORD"); hasBind != (c.user == "adsync-directory-reader") {
				t.Errorf("%s: bind password in its environment: %v", c.workload, hasBind)
			}
			args := fmt.Sprint(ctr["args"])
			want := "[provision -c /etc/adsync/adsync.yaml]"
			if c.user != "adsync-admin" {
				want = "serve " + strings.TrimPrefix(c.user, "adsync-") + " -c /etc/adsync/adsync.yaml"
			}
			if !strings.Contains(args, want) {
				t.Errorf("%s args %s, want %s", c.workload, args, want)
			}
		})
	}
}

// The systemd units of the services run with their own configuration
// (own NATS user), after the one-shot provision unit.
func TestSystemdUnitsRunLeastPrivilege(t *testing.T) {
	dir := "../../deploy/systemd"
	unit := func(name string) string {
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(raw)
	}
	prov := unit("adsync-provision.service")
	for _, want := range []string{"Type=oneshot", "ExecStart=/usr/local/bin/adsync provision -c /etc/adsync/admin.yaml", "User=adsync"} {
		if !strings.Contains(prov, want) {
			t.Errorf("adsync-provision.service has no %q", want)
		}
	}
	for _, svc := range app.AllServices {
		t.Run(svc, func(t *testing.T) {
			u := unit("adsync-" + svc + ".service")
			want := "ExecStart=/usr/local/bin/adsync serve " + svc + " -c /etc/adsync/" + svc + ".yaml "
			if !strings.Contains(u, want) {
				t.Errorf("no %q", want)
			}
			if !strings.Contains(u, "After=network-online.target nats-server.service adsync-provision.service") {
				t.Error("not ordered after adsync-provision.service")
			}
			if !strings.Contains(prov, "adsync-"+svc+".service") {
				t.Errorf("adsync-provision.service is not Before= adsync-%s.service", svc)
			}
		})
	}
	// The units' system call filter refuses sched_setattr (~@resources):
	// systemd sets process.cpu_scheduling's default policy itself.
	for _, name := range append([]string{"adsync.service"}, func() (u []string) {
		for _, svc := range app.AllServices {
			u = append(u, "adsync-"+svc+".service")
		}
		return u
	}()...) {
		if u := unit(name); strings.Contains(u, "~@privileged @resources") && !strings.Contains(u, "\nCPUSchedulingPolicy=batch\n") {
			t.Errorf("%s filters @resources but sets no CPUSchedulingPolicy=batch", name)
		}
	}
}

func readYAML(t *testing.T, path string, fn func([]byte)) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fn(raw)
}

func dig(m map[string]any, keys ...string) any {
	var cur any = m
	for _, k := range keys {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[k]
	}
	return cur
}

func str(m map[string]any, keys ...string) string {
	s, _ := dig(m, keys...).(string)
	return s
}

func list(v any) []map[string]any {
	var out []map[string]any
	items, _ := v.([]any)
	for _, it := range items {
		if m, ok := it.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

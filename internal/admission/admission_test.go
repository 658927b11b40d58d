package admission_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/adsync/adsync/internal/admission"
	"github.com/adsync/adsync/internal/infra/bus"
	"github.com/adsync/adsync/internal/infra/bus/bustest"
	"github.com/adsync/adsync/internal/jobs"
	"github.com/adsync/adsync/internal/settings"
)

func checker(t *testing.T) *admission.Checker {
	t.Helper()
	b := bustest.Start(t, bus.TopologyOptions{})
	ctx := context.Background()
	jobsKV, err := b.KV(ctx, bus.BucketJobs)
	if err != nil {
		t.Fatal(err)
	}
	settingsKV, err := b.KV(ctx, bus.BucketSettings)
	if err != nil {
		t.Fatal(err)
	}
	return &admission.Checker{Jobs: &jobs.Store{KV: jobsKV}, Settings: &settings.Store{KV: settingsKV}}
}

// Every refusal that applies is returned, in a fixed order, each with its
// code and a reason that says what to do.
func TestCheckListsEveryRefusal(t *testing.T) {
	c := checker(t)
	ctx := context.Background()
	env, err := c.Settings.Environment(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		job   *jobs.Job // nil: no such job
		sso   []string
		codes []string
		says  []string
	}{
		{"admitted", &jobs.Job{Name: "ok", Enabled: true, Environment: env}, nil, nil, nil},
		{"job missing", nil, nil, []string{admission.CodeJobMissing}, []string{`job "gone" does not exist`}},
		{"job disabled", &jobs.Job{Name: "off", Environment: env}, nil, []string{admission.CodeJobDisabled}, []string{"adsync job enable off"}},
		{"another environment", &jobs.Job{Name: "copied", Enabled: true, Environment: "env-elsewhere"}, nil,
			[]string{admission.CodeWrongEnvironment}, []string{"created in environment env-elsewhere; AD Sync Jobs must be created on each environment"}},
		{"every reason", &jobs.Job{Name: "all", Environment: "env-elsewhere"}, []string{settings.SAML, settings.OIDC},
			[]string{admission.CodeSSOEnabled, admission.CodeSSOEnabled, admission.CodeJobDisabled, admission.CodeWrongEnvironment},
			[]string{"SAML single sign-on is enabled", "OpenID Connect single sign-on is enabled", `job "all" is disabled`, "created in environment env-elsewhere"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := "gone"
			if tc.job != nil {
				name = tc.job.Name
				if err := c.Jobs.Create(ctx, tc.job); err != nil {
					t.Fatal(err)
				}
			}
			for _, k := range settings.SSOKinds {
				if err := c.Settings.SetSSO(ctx, k, slices.Contains(tc.sso, k), time.Now()); err != nil {
					t.Fatal(err)
				}
			}
			job, refused, err := c.Check(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			if (job == nil) != (tc.job == nil) {
				t.Fatalf("job %v, want %v", job, tc.job)
			}
			if got := admission.Codes(refused); !slices.Equal(got, tc.codes) && len(got)+len(tc.codes) > 0 {
				t.Fatalf("codes %v, want %v", got, tc.codes)
			}
			line := admission.Join(refused)
			for _, s := range tc.says {
				if !strings.Contains(line, s) {
					t.Errorf("reasons %q do not say %q", line, s)
				}
			}
		})
	}
}

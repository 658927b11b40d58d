// Package admission holds the checks that decide whether a job's run may
// go on at all, whatever its lease or its domains: single sign-on off, the
// job present and enabled, and created in this environment. Guard applies
// them to every requested run, and directory-reader again before every
// attempt after the first (a requeued attempt is a JetStream redelivery
// that guard never sees).
package admission

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/adsync/adsync/internal/jobs"
	"github.com/adsync/adsync/internal/settings"
)

// Refusal codes.
const (
	CodeSSOEnabled       = "sso-enabled"
	CodeJobMissing       = "job-missing"
	CodeJobDisabled      = "job-disabled"
	CodeWrongEnvironment = "wrong-environment"
)

// Refusal is one reason why a run may not go on.
type Refusal struct {
	Code   string
	Reason string
}

// Reasons returns the refusals' reasons.
func Reasons(rs []Refusal) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Reason
	}
	return out
}

// Codes returns the refusals' codes.
func Codes(rs []Refusal) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Code
	}
	return out
}

// Join returns the refusals' reasons as one line.
func Join(rs []Refusal) string { return strings.Join(Reasons(rs), "; ") }

// Checker reads the jobs and the installation's settings.
type Checker struct {
	Jobs     *jobs.Store
	Settings *settings.Store
}

// Check returns the job (nil when it does not exist) and every refusal that
// applies to a run of it; an error only when a store could not be read.
func (c *Checker) Check(ctx context.Context, name string) (*jobs.Job, []Refusal, error) {
	var out []Refusal
	refuse := func(code, format string, a ...any) {
		out = append(out, Refusal{Code: code, Reason: fmt.Sprintf(format, a...)})
	}
	sso, err := c.Settings.SSO(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, k := range settings.SSOKinds {
		if sso[k].Enabled {
			refuse(CodeSSOEnabled, "%s single sign-on is enabled: AD sync is refused while SAML or OpenID Connect sign-on is on, because both would manage the same accounts (adsync sso disable %s)", settings.SSOName(k), k)
		}
	}
	job, _, err := c.Jobs.Get(ctx, name)
	if errors.Is(err, jobs.ErrNotFound) {
		refuse(CodeJobMissing, "job %q does not exist", name)
		return nil, out, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if !job.Enabled {
		refuse(CodeJobDisabled, "job %q is disabled (adsync job enable %s)", job.Name, job.Name)
	}
	env, err := c.Settings.Environment(ctx)
	if err != nil {
		return nil, nil, err
	}
	if job.Environment != env {
		refuse(CodeWrongEnvironment, "job %q was created in environment %s; AD Sync Jobs must be created on each environment (this is %s)", job.Name, job.Environment, env)
	}
	return job, out, nil
}

// Refusals returns every refusal that applies to a run of the job.
func (c *Checker) Refusals(ctx context.Context, job string) ([]Refusal, error) {
	_, rs, err := c.Check(ctx, job)
	return rs, err
}

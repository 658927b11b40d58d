package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// caseResult is everything measured for one directory.
type caseResult struct {
	Label   string // "slapd" or "samba"
	N       int
	Dir     *directory
	Raw     rawResult
	StartUp time.Duration // adsync's processes up
	Runs    []*runResult
	// FirstSync and NoChange are the times of every first sync and
	// no-change run; Runs holds the median ones.
	FirstSync []time.Duration
	NoChange  []time.Duration
	Disk      map[string]int64
	Problems  []string // failed checks beyond the runs'
	Notes     []string
	Delta     string // the delta result, or why there is none
	API       *apiResult
	Elapsed   time.Duration
	Err       error
}

func (o *options) timeoutFor(n int) time.Duration {
	if o.runTimeout > 0 {
		return o.runTimeout
	}
	return 2*time.Minute + time.Duration(n)*time.Millisecond
}

// slapdLabel names the slapd cases in the report.
func slapdLabel(o *options) string {
	label := "slapd"
	if o.randomIDs {
		label += ", random ids"
	}
	if o.shuffled {
		label += ", shuffled names"
	}
	if o.groups > 0 {
		label += fmt.Sprintf(", %d groups a user", o.groups)
	}
	return label
}

// runSlapdCase measures N users in a private slapd.
func runSlapdCase(ctx context.Context, o *options, n int) (c *caseResult) {
	t0 := time.Now()
	c = &caseResult{Label: slapdLabel(o), N: n, Disk: map[string]int64{}}
	defer func() { c.Elapsed = time.Since(t0) }()
	dir := filepath.Join(o.scratch, fmt.Sprintf("n%d", n))
	defer func() {
		if !o.keep {
			_ = os.RemoveAll(dir)
		}
	}()

	logf("N=%d: slapadd of %d users into a private slapd", n, n)
	d, err := startSlapd(filepath.Join(dir, "slapd"), n, o)
	if err != nil {
		c.Err = err
		return c
	}
	c.Dir = d
	defer func() {
		if err := d.stop(); err != nil {
			c.Problems = append(c.Problems, "stop slapd: "+err.Error())
		}
	}()
	logf("N=%d: slapd up at %s (slapadd %s)", n, d.URL, d.LoadTime.Round(time.Millisecond))
	measureAdsync(ctx, o, c, d, filepath.Join(dir, "adsync"), func(ctx context.Context, sys *system) error {
		if !o.api {
			return nil
		}
		api, err := measureAPI(ctx, o, sys, d)
		if err != nil {
			return fmt.Errorf("API: %w", err)
		}
		c.API = api
		return nil
	})
	return c
}

// runSambaCase measures the Samba AD OU: first sync, no change, then
// deltaChanged of the users are changed and measured twice — a full run,
// and another change of as many users read by a delta run (measureDelta).
func runSambaCase(ctx context.Context, o *options) (c *caseResult) {
	t0 := time.Now()
	n := o.deltaUsers
	c = &caseResult{Label: "samba", N: n, Disk: map[string]int64{}}
	defer func() { c.Elapsed = time.Since(t0) }()
	dir := filepath.Join(o.scratch, "samba")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		c.Err = err
		return c
	}
	defer func() {
		if !o.keep {
			_ = os.RemoveAll(dir)
		}
	}()
	logf("delta: Samba AD DC with %d users in a dedicated OU", n)
	d, err := sambaDirectory(ctx, dir, n, o.keepSamba, logf)
	if err != nil {
		c.Err = err
		return c
	}
	defer func() {
		if err := d.stop(); err != nil {
			c.Problems = append(c.Problems, "clean up Samba: "+err.Error())
		}
	}()
	if o.plaintext {
		c.Notes = append(c.Notes, "Samba refuses simple binds over plain LDAP: the Samba figures use LDAPS for both contenders")
	}
	c.Dir = d
	k := max(1, int(float64(n)*o.deltaChanged))
	measureAdsync(ctx, o, c, d, filepath.Join(dir, "adsync"), func(ctx context.Context, sys *system) error {
		tag := time.Now().UTC().Format("20060102T150405Z")
		t1 := time.Now()
		changed, err := changeUsers(d, k, tag)
		if err != nil {
			return err
		}
		logf("delta: changed the displayName of %d users in %s", changed, since(t1))
		label := fmt.Sprintf("%.0f%% changed (full run)", o.deltaChanged*100)
		r, err := sys.run(ctx, label, "bench", d, o.timeoutFor(n))
		if r != nil && err == nil {
			r.check(n, counts{Updated: changed, Unchanged: n - changed})
			c.Runs = append(c.Runs, r)
			logf("delta: %s: %.2fs %s", label, r.Wall.Seconds(), r.Summary.Totals)
		}
		if err != nil {
			return err
		}
		var deltaRun *runResult
		c.Delta, deltaRun = measureDelta(ctx, o, sys, d, k, r)
		if deltaRun != nil {
			c.Runs = append(c.Runs, deltaRun)
		}
		logf("%s", c.Delta)
		return nil
	})
	return c
}

// measureDelta times delta runs (the bench-delta job: uSNChanged since the
// watermark the previous run left), each after changing another k users:
// o.changeRuns of them, the median one counts (as for the no-change run).
// Then a full run must find nothing more to do (the delta runs end in the
// same accounts as a full run). full is the full run after the first
// change.
func measureDelta(ctx context.Context, o *options, sys *system, d *directory, k int, full *runResult) (string, *runResult) {
	n := d.N
	var runs []*runResult
	var times []time.Duration
	for i := range o.changeRuns {
		changed, err := changeUsers(d, k, fmt.Sprintf("delta%d-%s", i+1, time.Now().UTC().Format("20060102T150405Z")))
		if err != nil {
			return "delta: " + err.Error(), nil
		}
		r, err := sys.run(ctx, "delta run", "bench-delta", d, o.timeoutFor(n))
		if err != nil {
			return "delta: " + err.Error(), nil
		}
		if len(r.Summary.Domains) != 1 {
			return fmt.Sprintf("delta: unexpected summary %+v", r.Summary), r
		}
		dd := r.Summary.Domains[0]
		if dd.Mode != "delta" || dd.Entries != changed || dd.Updated != changed {
			return fmt.Sprintf("delta: the run was not a delta read of the %d changed users: mode %s, %d entries read, %d updated (%s)", changed, dd.Mode, dd.Entries, dd.Updated, dd.Reason), r
		}
		logf("delta: run %d of %d: %d users changed, delta run %.3fs", i+1, o.changeRuns, changed, r.Wall.Seconds())
		runs = append(runs, r)
		times = append(times, r.Wall)
	}
	r := medianRun(runs)
	check, err := sys.run(ctx, "full run after the delta run", "bench", d, o.timeoutFor(n))
	if err != nil {
		return "delta: " + err.Error(), r
	}
	t := check.Summary.Totals
	same := t.Created+t.Updated+t.Deactivated+t.Reactivated == 0
	verdict := "✓"
	if ratio(r.Wall, full.Wall) > targetDelta {
		verdict = fmt.Sprintf("✗ (target ≤ %.0f%%)", 100*targetDelta)
	}
	return fmt.Sprintf("delta: %d of %d users changed before each of %d delta runs (%s s; median %s s, read %d entries) vs the full run %s s = %.1f%% %s; a full run afterwards changed %d accounts (%s)",
		k, n, len(runs), joinSecs(times), secs(r.Wall), r.Summary.Domains[0].Entries, secs(full.Wall), 100*ratio(r.Wall, full.Wall), verdict,
		t.Created+t.Updated+t.Deactivated+t.Reactivated, map[bool]string{true: "same accounts as a full run ✓", false: "✗ not the same accounts"}[same]), r
}

// measureAdsync does the raw read and the two standard runs of one
// directory, then extra (more runs) while the system is up.
func measureAdsync(ctx context.Context, o *options, c *caseResult, d *directory, dir string,
	extra func(context.Context, *system) error) {
	n := d.N
	var err error
	logf("N=%d: raw read: 1 counting + %d timed ldapsearch runs", n, o.rawRuns)
	c.Raw, err = rawRead(ctx, d, o.rawRuns)
	if err != nil {
		c.Err = fmt.Errorf("raw read: %w", err)
		return
	}
	logf("N=%d: raw read median %.3fs (runs %v)", n, c.Raw.Median.Seconds(), roundAll(c.Raw.Runs))
	if c.Raw.GoLDAP, err = goLDAPRead(ctx, d, o.rawRuns); err != nil {
		c.Err = fmt.Errorf("ldapdir read: %w", err)
		return
	}
	logf("N=%d: ldapdir read median %.3fs", n, c.Raw.GoLDAP.Seconds())

	sys, err := firstSyncs(ctx, o, c, d, dir)
	if sys != nil {
		defer func() {
			c.Problems = append(c.Problems, sys.stop()...)
		}()
	}
	if err != nil {
		c.Err = err
		return
	}
	// The no-change run is timed o.changeRuns times and the median run
	// counts, as the raw read's median does: on a small machine one run
	// varies by ±10%.
	var noChange []*runResult
	for i := range o.changeRuns {
		// The raw read's sample, interleaved, once adsync is idle (a
		// checkpoint after a first sync must not slow the raw read).
		sys.settle(ctx)
		if err := c.Raw.add(ctx, d); err != nil {
			c.Err = fmt.Errorf("raw read: %w", err)
			return
		}
		r, err := timedRun(ctx, o, sys, d, "no change", counts{Unchanged: n}, i, o.changeRuns)
		if r != nil {
			noChange = append(noChange, r)
			c.NoChange = append(c.NoChange, r.Wall)
		}
		if err != nil {
			c.Err = err
			return
		}
	}
	c.Runs = append(c.Runs, medianOf(noChange))
	logf("N=%d: raw read median of %d, interleaved with the runs: %.3fs (runs %v)", n, len(c.Raw.Runs), c.Raw.Median.Seconds(), roundAll(c.Raw.Runs))
	if err := extra(ctx, sys); err != nil {
		c.Err = err
	}
	if o.layout.oneProcess {
		c.Disk["adsync data_dir (SQLite, the embedded NATS store)"] = diskUsage(filepath.Join(dir, "data"))
	} else {
		c.Disk["adsync data_dir (SQLite)"] = diskUsage(filepath.Join(dir, "data"))
		c.Disk["nats-server store"] = diskUsage(filepath.Join(dir, "nats"))
	}
}

// firstSyncs times o.firstRuns first syncs, each by a new adsync (its own
// data directory and NATS store: empty stores), and keeps the median one
// in c.Runs. It returns the last adsync, still running, for the runs that
// follow: on a small machine one first sync varies by ±10%, as the raw
// read does.
func firstSyncs(ctx context.Context, o *options, c *caseResult, d *directory, dir string) (*system, error) {
	var runs []*runResult
	for i := range o.firstRuns {
		last := i == o.firstRuns-1
		sdir := dir
		if !last {
			sdir = fmt.Sprintf("%s-first%d", dir, i+1)
		}
		// The raw read's sample, interleaved; no adsync is running.
		if err := c.Raw.add(ctx, d); err != nil {
			return nil, fmt.Errorf("raw read: %w", err)
		}
		sys, err := startBench(ctx, o, c, d, sdir)
		var r *runResult
		if err == nil {
			r, err = timedRun(ctx, o, sys, d, "first sync", counts{Created: d.N, Joined: d.N * min(o.groups, 100, d.N)}, i, o.firstRuns)
		}
		if r != nil {
			runs = append(runs, r)
			c.FirstSync = append(c.FirstSync, r.Wall)
		}
		if last || err != nil {
			if len(runs) > 0 {
				c.Runs = append(c.Runs, medianOf(runs))
			}
			return sys, err
		}
		c.Problems = append(c.Problems, sys.stop()...)
		if !o.keep {
			_ = os.RemoveAll(sdir)
		}
	}
	return nil, nil // o.firstRuns ≥ 1
}

// startBench starts adsync in dir and creates the bench jobs.
func startBench(ctx context.Context, o *options, c *caseResult, d *directory, dir string) (*system, error) {
	t0 := time.Now()
	sys, err := startSystem(ctx, o, d, dir)
	if err != nil {
		if sys != nil {
			c.Problems = append(c.Problems, sys.stop()...)
		}
		return nil, fmt.Errorf("start adsync: %w", err)
	}
	c.StartUp = time.Since(t0)
	logf("N=%d: adsync up in %s (%s)", d.N, since(t0), o.layout.desc)
	// Full reads for the comparison with the raw read; the delta job (same
	// group scope: the watermark remembers it) reads what changed.
	scope := []string{"--groups-base-dn", d.GroupsBaseDN}
	for _, job := range [][]string{{"job", "create", "bench", "--all-domains", "--mode", "full"}, {"job", "create", "bench-delta", "--all-domains", "--mode", "auto"}} {
		if _, err := sys.cli(ctx, append(job, scope...)...); err != nil {
			return sys, err
		}
	}
	return sys, nil
}

// timedRun runs the bench job once (run i of times), checks its counts and
// logs it.
func timedRun(ctx context.Context, o *options, sys *system, d *directory, label string, want counts, i, times int) (*runResult, error) {
	logf("N=%d: %s: adsync job run bench --wait (%d of %d)", d.N, label, i+1, times)
	r, err := sys.run(ctx, label, "bench", d, o.timeoutFor(d.N))
	if r != nil && err == nil {
		r.check(d.N, want)
		logf("N=%d: %s: %.2fs %s", d.N, label, r.Wall.Seconds(), r.Summary.Totals)
		for _, p := range r.Problems {
			logf("N=%d: %s: PROBLEM: %s", d.N, label, p)
		}
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

// medianOf returns the run of median wall time; a check that failed in
// any of the runs is reported with it.
func medianOf(runs []*runResult) *runResult {
	median := medianRun(runs)
	for _, r := range runs {
		if r != median {
			median.Problems = append(median.Problems, r.Problems...)
		}
	}
	return median
}

// medianRun returns the run of median wall time.
func medianRun(runs []*runResult) *runResult {
	sorted := slices.Clone(runs)
	slices.SortFunc(sorted, func(a, b *runResult) int { return cmp.Compare(a.Wall, b.Wall) })
	return sorted[len(sorted)/2]
}

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func roundAll(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(time.Millisecond)
	}
	return out
}

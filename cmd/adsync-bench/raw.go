package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/adsync/adsync/events"
	"github.com/adsync/adsync/internal/ldapdir"
)

// rawResult is the raw directory read: a paged ldapsearch of the same base,
// filter and attributes as adsync, written to /dev/null.
type rawResult struct {
	// Runs are the timed reads in order: o.rawRuns first, then one before
	// each timed first sync and no-change run (interleaved, so that a
	// machine that is slower for a while slows both contenders); Median
	// is over all of them.
	Runs      []time.Duration
	Median    time.Duration
	ClientCPU time.Duration // ldapsearch user+sys of the median run
	ServerCPU time.Duration // directory server CPU during the median run
	Counted   int           // entries seen by the untimed warm-up run
	Command   string
	// GoLDAP is the median read through adsync's ldapdir.
	GoLDAP time.Duration
	all    []rawRun
}

func (d *directory) ldapsearchArgs() []string {
	args := []string{"ldapsearch", "-H", d.URL, "-x", "-D", d.BindDN, "-y", d.RawPassFile,
		"-b", d.BaseDN, "-s", "sub", "-E", "pr=1000/noprompt", d.Filter}
	return append(args, d.Attrs...)
}

func (d *directory) ldapsearchEnv() []string {
	// ldaps://127.0.0.1 verifies: testenv's certificates carry IP 127.0.0.1.
	return append(os.Environ(), "LDAPTLS_CACERT="+d.CAFile, "LDAPTLS_REQCERT=demand")
}

// rawRead counts the entries once (untimed warm-up, which also warms the
// server's caches for both contenders), then times runs reads to /dev/null.
// More reads join the sample between adsync's runs (add).
func rawRead(ctx context.Context, d *directory, runs int) (rawResult, error) {
	res := rawResult{Command: strings.Join(d.ldapsearchArgs(), " ")}
	n, err := countWithLdapsearch(ctx, d)
	if err != nil {
		return res, err
	}
	res.Counted = n
	if n != d.N {
		return res, fmt.Errorf("ldapsearch returned %d entries, want %d (command: %s)", n, d.N, res.Command)
	}
	for i := 0; i < runs; i++ {
		if err := res.add(ctx, d); err != nil {
			return res, err
		}
	}
	return res, nil
}

// rawRun is one timed raw read.
type rawRun struct{ wall, client, server time.Duration }

// add times one more raw read and takes the median of all again: the
// median run gives Median, ClientCPU and ServerCPU.
func (res *rawResult) add(ctx context.Context, d *directory) error {
	quiesce(ctx)
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer devnull.Close()
	args := d.ldapsearchArgs()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = d.ldapsearchEnv()
	cmd.Stdout = devnull
	var stderr strings.Builder
	cmd.Stderr = &stderr
	spid := d.serverPID()
	s0 := treeCPU(spid)
	t0 := time.Now()
	err = runCmd(ctx, cmd)
	wall := time.Since(t0)
	if err != nil {
		return fmt.Errorf("ldapsearch: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	o := rawRun{wall: wall, server: treeCPU(spid) - s0}
	if ps := cmd.ProcessState; ps != nil {
		o.client = ps.UserTime() + ps.SystemTime()
	}
	res.all = append(res.all, o)
	res.Runs = append(res.Runs, wall)
	sorted := slices.Clone(res.all)
	slices.SortFunc(sorted, func(a, b rawRun) int { return int(a.wall - b.wall) })
	m := sorted[len(sorted)/2]
	res.Median, res.ClientCPU, res.ServerCPU = m.wall, m.client, m.server
	return nil
}

// countWithLdapsearch runs the search once and counts the entries.
func countWithLdapsearch(ctx context.Context, d *directory) (int, error) {
	args := d.ldapsearchArgs()
	args = append(args[:1], append([]string{"-LLL"}, args[1:]...)...)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = d.ldapsearchEnv()
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	var stderr strings.Builder
	cmd.Stderr = &stderr
	counted := make(chan int, 1)
	go func() {
		n := 0
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, "dn: ") || strings.HasPrefix(line, "dn:: ") {
				n++
			}
		}
		_, _ = io.Copy(io.Discard, pr)
		counted <- n
	}()
	err := runCmd(ctx, cmd)
	pw.Close()
	n := <-counted
	if err != nil {
		return n, fmt.Errorf("ldapsearch (count): %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return n, nil
}

// goLDAPRead times the same read through adsync's own LDAP code
// (internal/ldapdir: TLS, paging, its own response decoder, mapping), doing nothing with
// the entries: the floor for adsync in Go, beside ldapsearch's in C.
func goLDAPRead(ctx context.Context, d *directory, runs int) (time.Duration, error) {
	cfg := ldapdir.Config{Name: "bench", Type: ldapdir.Type(d.Type), URL: d.URL, CAFile: d.CAFile, TLSServerName: d.ServerName,
		InsecurePlaintext: d.Plaintext, BindDN: d.BindDN, BindPassword: d.Password, BaseDN: d.BaseDN, PageSize: 1000}
	var all []time.Duration
	for i := 0; i < runs; i++ {
		t0 := time.Now()
		conn, err := ldapdir.Dial(ctx, cfg)
		if err != nil {
			return 0, err
		}
		st, err := conn.SearchUsers(ctx, func([]events.DirectoryEntry) error { return nil })
		conn.Close()
		if err != nil {
			return 0, err
		}
		if st.Entries != d.N {
			return 0, fmt.Errorf("ldapdir read %d entries, want %d", st.Entries, d.N)
		}
		all = append(all, time.Since(t0))
	}
	slices.Sort(all)
	return all[len(all)/2], nil
}

// quiesce starts a raw read on a quiet machine: what earlier runs left to
// the kernel (dirty pages of adsync's stores, a removed data directory) is
// written out first, and it waits until the whole machine used at most 20
// ms of CPU in 200 ms (at most 10 s).
func quiesce(ctx context.Context) {
	syscall.Sync()
	waitQuiet(ctx, systemBusy, 20*time.Millisecond)
}

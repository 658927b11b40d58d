package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// clockTicks is USER_HZ, the unit of utime/stime in /proc/PID/stat; 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// procStatus returns VmRSS and VmHWM of pid in bytes.
func procStatus(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		var dst *int64
		switch {
		case strings.HasPrefix(line, "VmRSS:"):
			dst = &rss
		case strings.HasPrefix(line, "VmHWM:"):
			dst = &hwm
		default:
			continue
		}
		f := strings.Fields(line)
		if len(f) >= 2 {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			*dst = kb << 10
		}
	}
	return rss, hwm, nil
}

// cpuTime returns the user+system CPU time pid has used so far.
func cpuTime(pid int) time.Duration {
	f := statFields(pid)
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * time.Second / clockTicks
}

// treeCPU returns the CPU time used so far by pid and its live
// descendants, plus what its reaped children used (Samba serves LDAP from
// forked children of its root process).
func treeCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	parent := map[int]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if f := statFields(p); len(f) > 1 {
			pp, _ := strconv.Atoi(f[1])
			parent[p] = pp
		}
	}
	inTree := func(p int) bool {
		for i := 0; i < 64 && p > 1; i++ {
			if p == pid {
				return true
			}
			p = parent[p]
		}
		return false
	}
	var total time.Duration
	for p := range parent {
		if inTree(p) {
			total += cpuTime(p)
		}
	}
	if f := statFields(pid); len(f) >= 15 {
		cu, _ := strconv.ParseInt(f[13], 10, 64)
		cs, _ := strconv.ParseInt(f[14], 10, 64)
		total += time.Duration(cu+cs) * time.Second / clockTicks
	}
	return total
}

// statFields returns the fields of /proc/PID/stat after the command name:
// state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
func statFields(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(s[i+1:])
}

// systemBusy returns the CPU time all processes of the machine have used
// so far (busy jiffies of /proc/stat: user nice system irq softirq steal).
func systemBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var busy int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		v, _ := strconv.ParseInt(f[i], 10, 64)
		busy += v
	}
	return time.Duration(busy) * time.Second / clockTicks
}

// resetHWM resets the peak RSS (VmHWM) of pid to its current RSS (Linux
// 4.0+, needs the right to write /proc/PID/clear_refs).
func resetHWM(pid int) error {
	return os.WriteFile("/proc/"+strconv.Itoa(pid)+"/clear_refs", []byte("5"), 0)
}

// watched is a process whose memory and CPU are measured during one run.
type watched struct {
	name string
	pid  int
	tree bool // count the CPU of its descendants too
}

func (w watched) cpu() time.Duration {
	if w.tree {
		return treeCPU(w.pid)
	}
	return cpuTime(w.pid)
}

// usage is what one process used during one measured interval.
type usage struct {
	PeakRSS   int64 // bytes: max of VmHWM at the end (after a reset) and of VmRSS samples
	Sampled   int64 // max VmRSS seen by the 50 ms sampler
	CPU       time.Duration
	HWMReset  bool // VmHWM was reset at the start: PeakRSS is this run's own
	EndRSS    int64
	Reachable bool
}

// sampler polls VmRSS of a set of processes every 50 ms.
type sampler struct {
	procs    []watched
	hwmReset map[int]bool
	cpu0     map[int]time.Duration
	busy0    time.Duration
	mu       sync.Mutex
	max      map[int]int64
	stop     func() // stops the sampling
}

func startSampler(ps []watched) *sampler {
	s := &sampler{procs: ps, hwmReset: map[int]bool{}, cpu0: map[int]time.Duration{}, max: map[int]int64{}}
	for _, p := range ps {
		s.hwmReset[p.pid] = resetHWM(p.pid) == nil
		s.cpu0[p.pid] = p.cpu()
	}
	s.busy0 = systemBusy()
	s.sample()
	s.stop = every(50*time.Millisecond, s.sample)
	return s
}

func (s *sampler) sample() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.procs {
		if rss, _, err := procStatus(p.pid); err == nil && rss > s.max[p.pid] {
			s.max[p.pid] = rss
		}
	}
}

// finish stops sampling and returns each process's usage by name, and
// the CPU time the whole machine used meanwhile.
func (s *sampler) finish() (map[string]usage, time.Duration) {
	busy := systemBusy() - s.busy0
	s.sample()
	s.stop()
	out := map[string]usage{}
	for _, p := range s.procs {
		u := usage{Sampled: s.max[p.pid], HWMReset: s.hwmReset[p.pid]}
		rss, hwm, err := procStatus(p.pid)
		if err == nil {
			u.Reachable = true
			u.EndRSS = rss
			u.PeakRSS = max(hwm, u.Sampled)
			if !u.HWMReset {
				// VmHWM counts since the process started: only samples are this run's.
				u.PeakRSS = u.Sampled
			}
			u.CPU = p.cpu() - s.cpu0[p.pid]
		} else {
			u.PeakRSS = u.Sampled
		}
		out[p.name] = u
	}
	return out, busy
}

// timeline records when the pipeline's events passed through NATS during a
// run (a plain core-NATS subscription, as `adsync watch` does), and how
// far the account change feed got (polling its stream).
type timeline struct {
	nc    *nats.Conn
	js    jetstream.JetStream
	sub   *nats.Subscription
	start time.Time
	mu    sync.Mutex
	ev    map[string]*evStat
	feed  *feedPoll
}

type evStat struct {
	First, Last time.Duration // since start
	Count       int
	Bytes       int64
}

func startTimeline(url string, start time.Time) (*timeline, error) {
	nc, err := nats.Connect(url, nats.Name("adsync bench timeline"))
	if err != nil {
		return nil, fmt.Errorf("timeline: connect %s: %w", url, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("timeline: %w", err)
	}
	tl := &timeline{nc: nc, js: js, start: start, ev: map[string]*evStat{}}
	// Every event but the feed's: their subjects add a fourth token, the
	// domain. Receiving a million feed events cost nats-server and the
	// bench about 10 CPU-s of the run's two cores at 1,000,000 users.
	sub, err := nc.Subscribe("adsync.*.*.*", func(m *nats.Msg) {
		name := strings.TrimPrefix(m.Subject, "adsync.")
		tl.mu.Lock()
		at := time.Since(tl.start)
		st := tl.ev[name]
		if st == nil {
			st = &evStat{First: at}
			tl.ev[name] = st
		}
		st.Last = at
		st.Count++
		st.Bytes += int64(len(m.Data))
		tl.mu.Unlock()
	})
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("timeline: subscribe: %w", err)
	}
	_ = sub.SetPendingLimits(-1, -1)
	if err := nc.Flush(); err != nil {
		nc.Close()
		return nil, fmt.Errorf("timeline: flush: %w", err)
	}
	tl.sub = sub
	return tl, nil
}

// feedStream is the account change feed's stream (internal/infra/bus).
const feedStream = "ADSYNC_ACCOUNTS"

// feedPoll reads the feed stream's last sequence every 10 ms from a
// run's start: the feed has a run's events once it grew by as many.
type feedPoll struct {
	stop   func() // stops the polling
	mu     sync.Mutex
	base   uint64        // the stream's last sequence at the start
	seq    uint64        // the last one read
	seqAt  time.Duration // when seq was first read, since the start
	failed error
}

func (tl *timeline) startFeedPoll(start time.Time) {
	p := &feedPoll{}
	read := func() (uint64, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		st, err := tl.js.Stream(ctx, feedStream)
		if err != nil {
			return 0, err
		}
		return st.CachedInfo().State.LastSeq, nil
	}
	p.base, p.failed = read()
	p.seq = p.base
	p.stop = every(10*time.Millisecond, func() {
		seq, err := read()
		p.mu.Lock()
		defer p.mu.Unlock()
		if err != nil {
			p.failed = err
		} else if seq != p.seq {
			p.seq, p.seqAt = seq, time.Since(start)
		}
	})
	tl.feed = p
}

func (p *feedPoll) close() {
	if p != nil {
		p.stop()
	}
}

// every calls fn every d on a goroutine of its own until the returned
// stop is called; stop returns once fn no longer runs.
func every(d time.Duration, fn func()) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				fn()
			}
		}
	}()
	return func() {
		close(quit)
		<-done
	}
}

// waitFeed waits until the feed has want account changes of the run (at
// most timeout) and returns when the last one was there and how many are.
func (tl *timeline) waitFeed(want int, timeout time.Duration) (time.Duration, int) {
	deadline := time.Now().Add(timeout)
	for {
		last, seen := tl.feedSoFar()
		if seen >= want || time.Now().After(deadline) {
			return last, seen
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// feedErr is the last error reading the feed's stream, if any.
func (tl *timeline) feedErr() error {
	if tl.feed == nil {
		return nil
	}
	tl.feed.mu.Lock()
	defer tl.feed.mu.Unlock()
	return tl.feed.failed
}

// feedSoFar returns how many account changes the feed's stream gained
// since the run started, and when it last grew (within 10 ms).
func (tl *timeline) feedSoFar() (last time.Duration, seen int) {
	p := tl.feed
	if p == nil {
		return 0, 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seqAt, int(p.seq - p.base)
}

// restart sets the timeline's zero, forgets what it saw, and starts
// following the feed afresh.
func (tl *timeline) restart(start time.Time) {
	tl.feed.close()
	tl.startFeedPoll(start)
	tl.mu.Lock()
	defer tl.mu.Unlock()
	tl.start = start
	tl.ev = map[string]*evStat{}
}

// snapshot waits briefly for in-flight messages and returns a copy.
func (tl *timeline) snapshot() map[string]evStat {
	_ = tl.nc.Flush()
	time.Sleep(20 * time.Millisecond)
	tl.mu.Lock()
	defer tl.mu.Unlock()
	out := map[string]evStat{}
	for k, v := range tl.ev {
		out[k] = *v
	}
	return out
}

func (tl *timeline) close() {
	if tl != nil {
		tl.feed.close()
		tl.feed = nil
	}
	if tl != nil && tl.nc != nil {
		tl.nc.Close()
	}
}

// waitQuiet waits until the CPU time used reports (used so far, by the
// processes it sums) grows by no more than most in 200 ms; at most 10 s.
func waitQuiet(ctx context.Context, used func() time.Duration, most time.Duration) {
	deadline := time.Now().Add(10 * time.Second)
	for last := used(); time.Now().Before(deadline) && ctx.Err() == nil; {
		time.Sleep(200 * time.Millisecond)
		now := used()
		if now-last <= most {
			return
		}
		last = now
	}
}

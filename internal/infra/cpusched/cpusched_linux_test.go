package cpusched

import (
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// policies returns the policy of every thread of the test process.
func policies(t *testing.T) map[int]string {
	t.Helper()
	out, err := OfProcess(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// startThreads makes the runtime start n more threads (each goroutine
// holds one until release is closed) and returns their ids.
func startThreads(n int, release chan struct{}) []int {
	var wg sync.WaitGroup
	ids := make(chan int, n)
	for range n {
		wg.Add(1)
		go func() {
			runtime.LockOSThread()
			ids <- unix.Gettid()
			wg.Done()
			<-release
			runtime.UnlockOSThread()
		}()
	}
	wg.Wait()
	close(ids)
	var out []int
	for id := range ids {
		out = append(out, id)
	}
	return out
}

// One test, in order: the policy is the whole process's, and a test
// binary cannot take it back (nor should it: it is what adsync does).
func TestApply(t *testing.T) {
	for tid, p := range policies(t) {
		if p != string(Normal) {
			t.Skipf("thread %d already runs under %s: start the test under the normal policy", tid, p)
		}
	}
	// A nice value the process was given stays.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	niceTID := unix.Gettid()
	if err := unix.Setpriority(unix.PRIO_PROCESS, niceTID, 3); err != nil {
		t.Fatal(err)
	}

	t.Run("normal changes nothing", func(t *testing.T) {
		res, err := Apply(Normal)
		if err != nil || res.Threads != 0 {
			t.Fatalf("Apply(normal) = %+v, %v", res, err)
		}
		for tid, p := range policies(t) {
			if p != string(Normal) {
				t.Errorf("thread %d: %s after Apply(normal)", tid, p)
			}
		}
	})

	release := make(chan struct{})
	defer close(release)
	before := startThreads(4, release)
	// A thread given another policy from outside (here SCHED_IDLE) keeps
	// it; its goroutine ends locked, which ends the thread.
	idle, idleDone := make(chan int), make(chan struct{})
	go func() {
		runtime.LockOSThread()
		tid := unix.Gettid()
		attr, err := unix.SchedGetAttr(tid, 0)
		if err == nil {
			attr.Policy = unix.SCHED_IDLE
			err = unix.SchedSetAttr(tid, attr, 0)
		}
		if err != nil {
			tid = -1
		}
		idle <- tid
		<-idleDone
	}()
	idleTID := <-idle
	defer close(idleDone)
	if idleTID < 0 {
		t.Fatal("could not set SCHED_IDLE on a thread")
	}
	t.Run("batch sets every thread under the normal policy", func(t *testing.T) {
		res, err := Apply(Batch)
		if err != nil {
			t.Fatal(err)
		}
		all := policies(t)
		if res.Threads < len(before) || res.Already {
			t.Errorf("Apply(batch) = %+v for %d threads", res, len(all))
		}
		for tid, p := range all {
			want := string(Batch)
			if tid == idleTID {
				want = strconv.Itoa(unix.SCHED_IDLE)
			}
			if p != want {
				t.Errorf("thread %d: %s after Apply(batch), want %s", tid, p, want)
			}
		}
		attr, err := unix.SchedGetAttr(niceTID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if attr.Nice != 3 {
			t.Errorf("thread %d: nice %d after Apply(batch), want 3 (kept)", niceTID, attr.Nice)
		}
	})
	t.Run("threads started later are batch too", func(t *testing.T) {
		for _, tid := range startThreads(8, release) {
			if p, err := Of(tid); err != nil || p != string(Batch) {
				t.Errorf("new thread %d: %s %v", tid, p, err)
			}
		}
	})
	t.Run("again: nothing to do", func(t *testing.T) {
		if res, err := Apply(Batch); err != nil || !res.Already || res.Threads != 0 {
			t.Fatalf("Apply(batch) again = %+v, %v", res, err)
		}
	})
}

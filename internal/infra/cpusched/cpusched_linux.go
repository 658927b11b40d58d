package cpusched

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Apply sets p on every thread of this process that runs under the
// normal policy (SCHED_OTHER): a policy chosen when adsync was started
// (chrt -i, SCHED_BATCH from systemd) is left as it is. Threads started
// later inherit the policy of the thread that starts them, so once every
// thread has it, the process keeps it. Nice values are kept. Normal
// changes nothing.
func Apply(p Policy) (Result, error) {
	if p != Batch {
		return Result{}, nil
	}
	var res Result
	done := map[int]bool{}
	// A thread the runtime starts while the set is walked may have been
	// started by one not set yet: walk again until a walk finds no thread
	// left to set.
	for {
		tids, err := threads(os.Getpid())
		if err != nil {
			return res, err
		}
		found := false
		for _, tid := range tids {
			if done[tid] {
				continue
			}
			found = true
			set, err := setBatch(tid)
			if err != nil {
				return res, fmt.Errorf("set SCHED_BATCH on thread %d: %w", tid, err)
			}
			done[tid] = true
			if set {
				res.Threads++
			}
		}
		if !found {
			break
		}
	}
	res.Already = res.Threads == 0
	return res, nil
}

// setBatch gives thread tid SCHED_BATCH with its nice value if it runs
// under SCHED_OTHER; it reports false if it does not (nothing is then
// asked of the kernel that a system call filter may refuse).
func setBatch(tid int) (bool, error) {
	attr, err := unix.SchedGetAttr(tid, 0)
	if err != nil {
		if errors.Is(err, unix.ESRCH) { // the thread ended meanwhile
			return false, nil
		}
		return false, err
	}
	if attr.Policy != unix.SCHED_NORMAL {
		return false, nil
	}
	attr.Policy = unix.SCHED_BATCH
	attr.Priority = 0
	if err := unix.SchedSetAttr(tid, attr, 0); err != nil {
		if errors.Is(err, unix.ESRCH) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// threads lists the thread ids of process pid.
func threads(pid int) ([]int, error) {
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	if err != nil {
		return nil, fmt.Errorf("list threads: %w", err)
	}
	out := make([]int, 0, len(ents))
	for _, e := range ents {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, tid)
		}
	}
	return out, nil
}

// OfProcess returns the policy (as Of) of every thread of process pid;
// threads that end meanwhile are left out.
func OfProcess(pid int) (map[int]string, error) {
	tids, err := threads(pid)
	if err != nil {
		return nil, err
	}
	out := make(map[int]string, len(tids))
	for _, tid := range tids {
		p, err := Of(tid)
		if errors.Is(err, unix.ESRCH) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("policy of thread %d: %w", tid, err)
		}
		out[tid] = p
	}
	return out, nil
}

// Of returns the policy of thread tid, for tests and diagnostics: "batch",
// "normal" (SCHED_OTHER) or the kernel's number of another.
func Of(tid int) (string, error) {
	attr, err := unix.SchedGetAttr(tid, 0)
	if err != nil {
		return "", err
	}
	switch attr.Policy {
	case unix.SCHED_BATCH:
		return string(Batch), nil
	case unix.SCHED_NORMAL:
		return string(Normal), nil
	}
	return strconv.Itoa(int(attr.Policy)), nil
}

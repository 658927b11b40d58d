// Package cpusched sets how the kernel schedules adsync's threads
// (config: process.cpu_scheduling).
//
// adsync's services are batch work: they read a directory, compare and
// write, and no one waits on a single message of theirs. Under Linux's
// SCHED_BATCH a thread that wakes up does not preempt the thread running on
// its CPU; it waits for a free CPU or the next scheduling tick. The reader
// wakes for nearly every entry that arrives from the directory: with the
// normal policy each of those wake-ups may preempt whatever else runs there
// (a directory server on the same host, another service, NATS). Batch
// scheduling keeps the same share of CPU (nice is unchanged) and lets data
// gather between wake-ups instead.
package cpusched

import "errors"

// Policy is a scheduling policy for every thread of the process.
type Policy string

const (
	// Batch is SCHED_BATCH (the default), for the threads under the
	// normal policy: one chosen when adsync was started stays.
	Batch Policy = "batch"
	// Normal leaves the threads as the process was started: the kernel's
	// default, or what systemd's CPUSchedulingPolicy= or chrt set.
	Normal Policy = "normal"
)

// Policies lists the valid values, for configuration errors.
var Policies = []Policy{Batch, Normal}

// ErrUnsupported: the system has no such policy (not Linux).
var ErrUnsupported = errors.New("not supported on this operating system")

// Result says what Apply did.
type Result struct {
	// Threads is how many threads were set.
	Threads int
	// Already: no thread needed it: every one had the policy already
	// (e.g. set by systemd) or another one chosen at start.
	Already bool
}

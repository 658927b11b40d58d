package app

import (
	"log/slog"
	"runtime/debug"
)

// defaultMemoryLimit is the heap limit when the operator sets none: the
// services keep little live data (a page, a batch), and issue 5's bound
// of 150 MB of RSS a service holds well within it.
const defaultMemoryLimit = 256 << 20

// applyMemoryPolicy collects less often than Go's default (GOGC=200) within
// a bounded heap, unless the operator chose otherwise: GOGC and GOMEMLIMIT
// in the environment are the Go runtime's own settings, read by it at
// start, and win over these defaults.
func applyMemoryPolicy(log *slog.Logger, env func(string) (string, bool)) {
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	if _, set := env("GOGC"); !set {
		debug.SetGCPercent(200)
	}
	if _, set := env("GOMEMLIMIT"); set {
		log.Info("memory limit from GOMEMLIMIT", "limit_bytes", debug.SetMemoryLimit(-1))
		return
	}
	debug.SetMemoryLimit(defaultMemoryLimit)
}

package app

import (
	"log/slog"
	"runtime/debug"
	"testing"
)

// The heap limit is 256 MiB unless GOMEMLIMIT is set, and GOGC is 200
// unless GOGC is set: the operator's settings (which the Go runtime has
// already applied at start) win.
func TestMemoryPolicyRespectsTheOperatorsSettings(t *testing.T) {
	limit, gc := debug.SetMemoryLimit(-1), debug.SetGCPercent(-1)
	debug.SetGCPercent(gc)
	t.Cleanup(func() { debug.SetMemoryLimit(limit); debug.SetGCPercent(gc) })
	cases := []struct {
		name      string
		env       map[string]string
		wantLimit int64
		wantGC    int
	}{
		{"defaults", nil, defaultMemoryLimit, 200},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "1GiB"}, 1 << 30, 200},
		{"GOGC set", map[string]string{"GOGC": "50"}, defaultMemoryLimit, 50},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// What the runtime would have read from the environment.
			debug.SetMemoryLimit(1 << 30)
			debug.SetGCPercent(50)
			applyMemoryPolicy(slog.New(slog.DiscardHandler), func(k string) (string, bool) { v, ok := c.env[k]; return v, ok })
			if got := debug.SetMemoryLimit(-1); got != c.wantLimit {
				t.Errorf("memory limit %d, want %d", got, c.wantLimit)
			}
			got := debug.SetGCPercent(-1)
			debug.SetGCPercent(got)
			if got != c.wantGC {
				t.Errorf("GOGC %d, want %d", got, c.wantGC)
			}
		})
	}
}

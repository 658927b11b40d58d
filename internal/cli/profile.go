package cli

import (
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/spf13/cobra"
)

func profileFlags(cmd *cobra.Command) {
	cmd.Flags().String("cpuprofile", "", "write a CPU profile (pprof) to this file until the process stops")
	cmd.Flags().String("memprofile", "", "write a heap profile (pprof) to this file when the process stops")
	cmd.Flags().String("metrics", "", "serve /metrics, /healthz and /readyz on this address (overrides metrics.listen)")
}

// startProfiles starts the profiles asked for on the command line and
// returns what stops them.
func startProfiles(cmd *cobra.Command) (func(*slog.Logger), error) {
	cpu, _ := cmd.Flags().GetString("cpuprofile")
	mem, _ := cmd.Flags().GetString("memprofile")
	var cpuFile *os.File
	if cpu != "" {
		f, err := os.Create(cpu)
		if err != nil {
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
		cpuFile = f
	}
	return func(log *slog.Logger) {
		if cpuFile != nil {
			pprof.StopCPUProfile()
			cpuFile.Close()
		}
		if mem != "" {
			f, err := os.Create(mem)
			if err != nil {
				log.Error("memprofile", "err", err)
				return
			}
			defer f.Close()
			runtime.GC()
			if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
				log.Error("memprofile", "err", err)
			}
		}
	}, nil
}

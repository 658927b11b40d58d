package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/segmentio/encoding/json"
	"github.com/spf13/cobra"

	"github.com/adsync/adsync/internal/jobs"
	"github.com/adsync/adsync/internal/settings"
)

// Export is what `adsync job export` writes: the installation's settings,
// and its AD Sync Jobs, which an import into another environment refuses.
type Export struct {
	Format      int                          `json:"adsync_export"`
	Environment string                       `json:"environment"`
	ExportedAt  time.Time                    `json:"exported_at"`
	SSO         map[string]settings.SSOState `json:"sso"`
	Jobs        []*jobs.Job                  `json:"jobs"`
}

// ErrForeignJob is the refusal of a job from another environment.
func foreignJobError(j *jobs.Job) error {
	return fmt.Errorf("job %q: created in environment %s; AD Sync Jobs must be created on each environment", j.Name, j.Environment)
}

func (c *cli) jobExportCmd() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Export settings (single sign-on) and jobs to a JSON file",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withOps(cmd.Context(), func(ctx context.Context, s *session) error {
				var err error
				ex := Export{Format: 1, ExportedAt: c.env.Now().UTC()}
				if ex.Environment, err = s.stores.Settings.Environment(ctx); err != nil {
					return err
				}
				if ex.SSO, err = s.stores.Settings.SSO(ctx); err != nil {
					return err
				}
				if ex.Jobs, err = s.stores.Jobs.List(ctx); err != nil {
					return err
				}
				raw, _ := json.MarshalIndent(ex, "", "  ")
				if file == "" || file == "-" {
					_, err = c.env.Stdout.Write(append(raw, '\n'))
					return err
				}
				return os.WriteFile(file, append(raw, '\n'), 0o600)
			})
		},
	}
	cmd.Flags().StringVarP(&file, "output", "o", "-", "file to write (- for standard output)")
	return cmd
}

func (c *cli) jobImportCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE",
		Short: "Import settings from an export; AD Sync Jobs of another environment are refused",
		Long: `Imports the single sign-on settings of an export. AD Sync Jobs are bound to the
environment they were created in and are never imported from another one: create
them on each environment. Jobs exported from this same environment (a backup)
are restored unless a job of that name exists.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			raw, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			var ex Export
			if err := json.Unmarshal(raw, &ex); err != nil || ex.Format != 1 {
				return fmt.Errorf("%s is not an adsync export", args[0])
			}
			return c.withOps(ctx, func(ctx context.Context, s *session) error {
				var err error
				here, err := s.stores.Settings.Environment(ctx)
				if err != nil {
					return err
				}
				for _, kind := range settings.SSOKinds {
					st, ok := ex.SSO[kind]
					if !ok {
						continue
					}
					if err := s.ops.RestoreSSO(ctx, s.actor, kind, st.Enabled); err != nil {
						return err
					}
					c.out("imported %s single sign-on: enabled=%v\n", settings.SSOName(kind), st.Enabled)
				}
				var refused []string
				for _, j := range ex.Jobs {
					if j.Environment != here {
						err := foreignJobError(j)
						fmt.Fprintln(c.env.Stderr, "refused:", err)
						refused = append(refused, err.Error())
						continue
					}
					if err := s.ops.RestoreJob(ctx, s.actor, j); err != nil {
						if errors.Is(err, jobs.ErrExists) {
							c.out("kept existing job %s\n", j.Name)
							continue
						}
						return err
					}
					c.out("restored job %s (same environment)\n", j.Name)
				}
				if len(refused) > 0 {
					return &ExitError{Code: 1, Msg: fmt.Sprintf("%d AD Sync Job(s) refused: %s", len(refused), strings.Join(refused, "; "))}
				}
				return nil
			})
		},
	}
}

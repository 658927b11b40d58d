package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/adsync/adsync/internal/jobs"
	"github.com/adsync/adsync/internal/settings"
)

func (c *cli) ssoCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "sso", Short: "Single sign-on switches: while SAML or OpenID Connect is on, no sync runs"}
	var force bool
	enable := &cobra.Command{
		Use:       "enable saml|oidc",
		Short:     "Enable single sign-on (refused while an enabled AD Sync Job exists, unless --force)",
		Args:      cobra.ExactArgs(1),
		ValidArgs: settings.SSOKinds,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			kind := strings.ToLower(args[0])
			s, err := c.connect(ctx)
			if err != nil {
				return err
			}
			defer s.close()
			list, err := s.stores.Jobs.List(ctx)
			if err != nil {
				return err
			}
			var enabled []string
			for _, j := range list {
				if j.Enabled {
					enabled = append(enabled, j.Name)
				}
			}
			if len(enabled) > 0 && !force {
				return fmt.Errorf("refusing to enable %s: enabled AD Sync Jobs exist (%s). Running both breaks sign-on and needs a reset: disable the jobs first (adsync job disable NAME), or pass --force to disable them now",
					settings.SSOName(kind), strings.Join(enabled, ", "))
			}
			now := c.env.Now().UTC()
			for _, name := range enabled {
				if _, err := s.stores.Jobs.Update(ctx, name, func(j *jobs.Job) error {
					j.Enabled, j.UpdatedAt = false, now
					return nil
				}); err != nil {
					return err
				}
				c.out("disabled AD Sync Job %s (--force)\n", name)
			}
			if err := s.stores.Settings.SetSSO(ctx, kind, true, now); err != nil {
				return err
			}
			c.out("%s single sign-on enabled; AD sync runs are refused until it is disabled\n", settings.SSOName(kind))
			return nil
		},
	}
	enable.Flags().BoolVar(&force, "force", false, "disable every enabled AD Sync Job first")
	disable := &cobra.Command{
		Use:       "disable saml|oidc",
		Short:     "Disable single sign-on",
		Args:      cobra.ExactArgs(1),
		ValidArgs: settings.SSOKinds,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := c.connect(cmd.Context())
			if err != nil {
				return err
			}
			defer s.close()
			kind := strings.ToLower(args[0])
			if err := s.stores.Settings.SetSSO(cmd.Context(), kind, false, c.env.Now()); err != nil {
				return err
			}
			c.out("%s single sign-on disabled\n", settings.SSOName(kind))
			return nil
		},
	}
	status := &cobra.Command{
		Use:   "status",
		Short: "Show which single sign-on kinds are enabled",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := c.connect(cmd.Context())
			if err != nil {
				return err
			}
			defer s.close()
			st, err := s.stores.Settings.SSO(cmd.Context())
			if err != nil {
				return err
			}
			for _, k := range settings.SSOKinds {
				state := "disabled"
				if st[k].Enabled {
					state = "enabled"
				}
				since := ""
				if !st[k].ChangedAt.IsZero() {
					since = " since " + st[k].ChangedAt.Format(time.RFC3339)
				}
				c.out("%s: %s%s\n", settings.SSOName(k), state, since)
			}
			return nil
		},
	}
	cmd.AddCommand(enable, disable, status)
	return cmd
}

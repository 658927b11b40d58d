package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/adsync/adsync/internal/admin"
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
			return c.withOps(ctx, func(ctx context.Context, s *session) error {
				disabled, err := s.ops.SetSSO(ctx, s.actor, kind, true, force)
				for _, name := range disabled {
					c.out("disabled AD Sync Job %s (--force)\n", name)
				}
				if err != nil {
					if admin.KindOf(err) == admin.Conflict {
						return fmt.Errorf("%w (adsync job disable NAME, or --force)", err)
					}
					return err
				}
				c.out("%s single sign-on enabled; AD sync runs are refused until it is disabled\n", settings.SSOName(kind))
				return nil
			})
		},
	}
	enable.Flags().BoolVar(&force, "force", false, "disable every enabled AD Sync Job first")
	disable := &cobra.Command{
		Use:       "disable saml|oidc",
		Short:     "Disable single sign-on",
		Args:      cobra.ExactArgs(1),
		ValidArgs: settings.SSOKinds,
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withOps(cmd.Context(), func(ctx context.Context, s *session) error {
				kind := strings.ToLower(args[0])
				if _, err := s.ops.SetSSO(ctx, s.actor, kind, false, false); err != nil {
					return err
				}
				c.out("%s single sign-on disabled\n", settings.SSOName(kind))
				return nil
			})
		},
	}
	status := &cobra.Command{
		Use:   "status",
		Short: "Show which single sign-on kinds are enabled",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withOps(cmd.Context(), func(ctx context.Context, s *session) error {
				st, err := s.stores.Settings.SSO(ctx)
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
			})
		},
	}
	cmd.AddCommand(enable, disable, status)
	return cmd
}

package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/segmentio/encoding/json"
	"github.com/spf13/cobra"

	"github.com/adsync/adsync/internal/natsapi"
	"github.com/adsync/adsync/services/account-writer/accounts"
)

func (c *cli) accountsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "accounts", Short: "Inspect the local accounts"}
	cmd.AddCommand(c.accountsListCmd(), c.accountsFeedCmd())
	cmd.AddCommand(c.accountsHoldCmds()...)
	return cmd
}

func (c *cli) accountsListCmd() *cobra.Command {
	var (
		asJSON bool
		domain string
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List local accounts (never deleted: inactive ones say why)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.listAccounts(cmd, natsapi.AccountsListRequest{Domain: domain}, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON array")
	cmd.Flags().StringVar(&domain, "domain", "", "only this domain")
	return cmd
}

// listAccounts prints accounts page by page: never the whole list in
// memory.
func (c *cli) listAccounts(cmd *cobra.Command, req natsapi.AccountsListRequest, asJSON bool) error {
	return c.withOps(cmd.Context(), func(ctx context.Context, s *session) error {
		var tw *tabwriter.Writer
		if asJSON {
			fmt.Fprint(c.env.Stdout, "[")
		} else {
			tw = tabwriter.NewWriter(c.env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "LOCAL NAME\tEMAIL\tDISPLAY NAME\tACTIVE\tREASON\tGROUPS")
		}
		first := true
		req.Limit = 1000
		for {
			resp, err := natsapi.Request[natsapi.AccountsListResponse](ctx, s.bus.NC, natsapi.SubjectAccountsList, "account-writer", req)
			if err != nil {
				return err
			}
			for _, a := range resp.Accounts {
				if asJSON {
					if !first {
						fmt.Fprint(c.env.Stdout, ",")
					}
					raw, _ := json.Marshal(a)
					fmt.Fprintf(c.env.Stdout, "\n%s", raw)
				} else {
					reason := a.InactiveReason
					if a.LocalNote != "" {
						reason += ": " + a.LocalNote
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\t%s\n", a.LocalName, a.Email, a.DisplayName, a.Active, orDash(reason), orDash(strings.Join(a.Groups, ",")))
				}
				first = false
			}
			if !resp.More || len(resp.Accounts) == 0 {
				break
			}
			last := resp.Accounts[len(resp.Accounts)-1]
			req.AfterDomain, req.AfterUsername, req.AfterID = last.Domain, last.Username, last.ExternalID
		}
		if asJSON {
			fmt.Fprintln(c.env.Stdout, "\n]")
			return nil
		}
		return tw.Flush()
	})
}

func (c *cli) accountsHoldCmds() []*cobra.Command {
	var reason string
	deactivate := &cobra.Command{
		Use:   "deactivate ACCOUNT --reason TEXT",
		Short: "Deactivate an account locally (ACCOUNT: its local name, e.g. alice@corp, or domain/external_id); the sync never re-enables it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.accountOp(cmd, func(ctx context.Context, s *session) (accounts.Account, error) {
				return s.ops.SetHold(ctx, s.actor, args[0], reason)
			}, "deactivated locally")
		},
	}
	deactivate.Flags().StringVar(&reason, "reason", "", "why (kept with the account)")
	reactivate := &cobra.Command{
		Use:   "reactivate ACCOUNT",
		Short: "Lift a local deactivation: the account takes the directory's state again",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.accountOp(cmd, func(ctx context.Context, s *session) (accounts.Account, error) {
				return s.ops.LiftHold(ctx, s.actor, args[0])
			}, "local hold lifted")
		},
	}
	var asJSON bool
	drift := &cobra.Command{
		Use:   "drift",
		Short: "Accounts deactivated locally that the directory still has enabled (disable them in the directory too)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.listAccounts(cmd, natsapi.AccountsListRequest{DriftOnly: true}, asJSON)
		},
	}
	drift.Flags().BoolVar(&asJSON, "json", false, "print one JSON array")
	return []*cobra.Command{deactivate, reactivate, drift}
}

func (c *cli) accountOp(cmd *cobra.Command, op func(context.Context, *session) (accounts.Account, error), done string) error {
	return c.withOps(cmd.Context(), func(ctx context.Context, s *session) error {
		a, err := op(ctx, s)
		if err != nil {
			return err
		}
		state := "active"
		if !a.Active {
			state = "inactive (" + a.InactiveReason + ")"
		}
		c.out("%s: %s; now %s\n", a.LocalName, done, state)
		return nil
	})
}

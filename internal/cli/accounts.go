package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/go-ldap/ldap/v3"
	"github.com/spf13/cobra"

	"github.com/adsync/adsync/internal/accounts"
	"github.com/adsync/adsync/internal/api"
)

func (c *cli) accountsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "accounts", Short: "Inspect the local accounts"}
	cmd.AddCommand(c.accountsListCmd())
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
			ctx := cmd.Context()
			s, err := c.connect(ctx)
			if err != nil {
				return err
			}
			defer s.close()
			var tw *tabwriter.Writer
			if asJSON {
				fmt.Fprint(c.env.Stdout, "[")
			} else {
				tw = tabwriter.NewWriter(c.env.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "DOMAIN\tUSERNAME\tEMAIL\tDISPLAY NAME\tACTIVE\tREASON\tGROUPS")
			}
			first := true
			req := api.AccountsListRequest{Domain: domain, Limit: 1000}
			// Page through the store: never the whole list in memory.
			for {
				resp, err := api.Request[api.AccountsListResponse](ctx, s.bus.NC, api.SubjectAccountsList, "account-writer", req)
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
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\t%s\t%s\n", a.Domain, a.Username, a.Email, a.DisplayName, a.Active,
							orDash(a.InactiveReason), groupNames(a))
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
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON array")
	cmd.Flags().StringVar(&domain, "domain", "", "only this domain")
	return cmd
}

// groupNames shortens group DNs to their first RDN value for the table.
func groupNames(a accounts.Account) string {
	names := make([]string, 0, len(a.Groups))
	for _, g := range a.Groups {
		if dn, err := ldap.ParseDN(g); err == nil && len(dn.RDNs) > 0 && len(dn.RDNs[0].Attributes) > 0 {
			names = append(names, dn.RDNs[0].Attributes[0].Value)
		} else {
			names = append(names, g)
		}
	}
	return orDash(strings.Join(names, ","))
}

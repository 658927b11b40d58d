package cli

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/segmentio/encoding/json"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// adminCmd manages the console's local administrators (break-glass
// accounts that need no directory).
func (c *cli) adminCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "admin", Short: "The web console's local administrators: add, list, passwd, remove"}
	var role string
	add := &cobra.Command{
		Use:   "add NAME --role admin|operator|viewer",
		Short: "Add a local administrator; the password comes from a prompt, or the first line of standard input",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			password, err := c.readPassword("password for " + args[0])
			if err != nil {
				return err
			}
			return c.withOps(cmd.Context(), func(ctx context.Context, s *session) error {
				if err := s.ops.AddConsoleAdmin(ctx, s.actor, args[0], role, password); err != nil {
					return err
				}
				c.out("administrator %s added (role %s)\n", args[0], role)
				return nil
			})
		},
	}
	add.Flags().StringVar(&role, "role", "", "viewer, operator or admin")
	_ = add.MarkFlagRequired("role")
	passwd := &cobra.Command{
		Use:   "passwd NAME",
		Short: "Change a local administrator's password",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			password, err := c.readPassword("new password for " + args[0])
			if err != nil {
				return err
			}
			return c.withOps(cmd.Context(), func(ctx context.Context, s *session) error {
				if err := s.ops.SetConsolePassword(ctx, s.actor, args[0], password); err != nil {
					return err
				}
				c.out("password of %s changed\n", args[0])
				return nil
			})
		},
	}
	remove := &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove a local administrator",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withOps(cmd.Context(), func(ctx context.Context, s *session) error {
				if err := s.ops.RemoveConsoleAdmin(ctx, s.actor, args[0]); err != nil {
					return err
				}
				c.out("administrator %s removed\n", args[0])
				return nil
			})
		},
	}
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List the local administrators and their roles",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withOps(cmd.Context(), func(ctx context.Context, s *session) error {
				admins, err := s.ops.Admins.List(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return json.NewEncoder(c.env.Stdout).Encode(admins)
				}
				tw := tabwriter.NewWriter(c.env.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tROLE\tCREATED\tPASSWORD CHANGED")
				for _, a := range admins {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.Name, a.Role, a.CreatedAt.Format(time.RFC3339), a.UpdatedAt.Format(time.RFC3339))
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print one JSON array")
	cmd.AddCommand(add, list, passwd, remove)
	return cmd
}

// readPassword prompts on a terminal without echo (twice), or reads the
// first line of standard input.
func (c *cli) readPassword(what string) (string, error) {
	if f, ok := c.env.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(c.env.Stderr, "%s: ", what)
		p1, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.env.Stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(c.env.Stderr, "again: ")
		p2, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.env.Stderr)
		if err != nil {
			return "", err
		}
		if string(p1) != string(p2) {
			return "", fmt.Errorf("the two passwords differ")
		}
		return string(p1), nil
	}
	if c.env.Stdin == nil {
		return "", fmt.Errorf("%s: give it on standard input", what)
	}
	line, err := bufio.NewReader(c.env.Stdin).ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("%s: none on standard input (%v)", what, err)
	}
	return line, nil
}

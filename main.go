// Command adsync keeps the local accounts of a platform in step with its
// Active Directory and LDAP domains. See README.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/adsync/adsync/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := cli.Run(ctx, os.Args[1:], cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, LookupEnv: os.LookupEnv})
	if err != nil {
		fmt.Fprintln(os.Stderr, "adsync:", err)
		os.Exit(cli.ExitCode(err))
	}
}

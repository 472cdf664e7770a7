package main

// Stand-in for cmd/dualread's root while the subcommand is not wired.

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := &cobra.Command{Use: "dualread", SilenceUsage: true, SilenceErrors: true}
	root.AddCommand(newBenchCmd())
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "dualread:", err)
		stop()
		os.Exit(1)
	}
}

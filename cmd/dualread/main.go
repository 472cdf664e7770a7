// Command dualread is the DynamoDB-compatible adapter and its tools, in one
// binary: `dualread serve` runs the adapter, `dualread version` prints the
// build. Further subcommands are added as they work.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	// SIGINT/SIGTERM cancel ctx; serve then drains in-flight requests.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCmd().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "dualread:", err)
		stop()
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "dualread",
		Short: "DynamoDB-compatible adapter over Bigtable and Spanner",
		Long: "dualread serves DynamoDB's API (any AWS SDK can point at it) and keeps the data in\n" +
			"Google Bigtable or Spanner.",
		SilenceUsage:  true, // usage on flag errors only, not on runtime failures
		SilenceErrors: true, // main prints the error once
	}
	root.AddCommand(newServeCmd(), newSchemaCmd(), newAuditCmd(), newStreamprocCmd(), newBackfillCmd(), newKDSBridgeCmd(), newVerifyCmd(), newDrillCmd(), newBenchCmd(), newLocalCmd(), newDemoCmd(), newVersionCmd())
	return root
}

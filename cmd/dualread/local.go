package main

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/dualread/dualread/internal/localstack"
)

func newLocalCmd() *cobra.Command {
	local := &cobra.Command{
		Use:   "local",
		Short: "Run the whole of dualread on this machine (what `make run` starts)",
		Args:  cobra.NoArgs,
	}
	local.AddCommand(newLocalUpCmd())
	return local
}

func newLocalUpCmd() *cobra.Command {
	cfg := localstack.Config{Ports: localstack.DefaultPorts()}
	var noBridge, exitWithParent bool
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start the stand-ins, the adapter, audit, kds-bridge, streamproc and demo traffic; Ctrl-C stops them all",
		Long: "up starts DynamoDB Local, kinesalite, InfluxDB 1.8 and the Bigtable emulator (installed by\n" +
			"deploy/local/standins.sh), then `dualread audit`, `serve` (backend: the Bigtable emulator, shadow reads to\n" +
			"DynamoDB Local at sample 1.0), `streamproc`, `kds-bridge` and `demo`, each in its own process group with its\n" +
			"log under --run-dir. It prints what runs where once all are ready, and on SIGINT/SIGTERM stops every child\n" +
			"and checks that none is left. Run it from the repository (it needs deploy/local/standins.sh).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			out := cmd.OutOrStdout()
			if exitWithParent {
				// SIGTERM, which main turns into the same orderly stop
				// as Ctrl-C, when the parent dies however it dies.
				if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0); errno != 0 {
					return fmt.Errorf("--exit-with-parent: %w", errno)
				}
				if os.Getppid() == 1 {
					return errors.New("--exit-with-parent: the parent is already gone")
				}
			}
			cfg.Out = out
			cfg.Bridge = !noBridge && hasSubcommand(cmd.Root(), "kds-bridge")
			stack, err := localstack.Up(ctx, cfg)
			if err != nil {
				if ctx.Err() != nil {
					fmt.Fprintln(out, localstack.StoppedLine+": interrupted while starting")
				}
				return err
			}
			stack.Banner(out)
			waitErr := stack.Wait(ctx)
			if waitErr != nil {
				fmt.Fprintf(out, "%v\nstopping everything\n", waitErr)
			} else {
				fmt.Fprintln(out, "\nstopping (SIGINT/SIGTERM received)")
			}
			downErr := stack.Down()
			if err := errors.Join(waitErr, downErr); err != nil {
				return err
			}
			fmt.Fprintf(out, "%s: every child exited cleanly, none left running\n", localstack.StoppedLine)
			return nil
		},
	}
	f := cmd.Flags()
	p := &cfg.Ports
	f.IntVar(&p.Adapter, "adapter-port", p.Adapter, "port of the adapter (the DynamoDB API)")
	f.IntVar(&p.Admin, "admin-port", p.Admin, "port of the adapter's admin API")
	f.IntVar(&p.DynamoDB, "dynamodb-port", p.DynamoDB, "port of DynamoDB Local")
	f.IntVar(&p.Kinesis, "kinesis-port", p.Kinesis, "port of kinesalite")
	f.IntVar(&p.InfluxDB, "influxdb-port", p.InfluxDB, "port of InfluxDB's HTTP API")
	f.IntVar(&p.InfluxRPC, "influxdb-rpc-port", p.InfluxRPC, "port of InfluxDB's backup service")
	f.IntVar(&p.Bigtable, "bigtable-port", p.Bigtable, "port of the Bigtable emulator")
	f.IntVar(&p.Audit, "audit-port", p.Audit, "port of the audit service (gRPC)")
	f.IntVar(&p.Streamproc, "streamproc-port", p.Streamproc, "port of streamproc's /metrics")
	f.StringVar(&cfg.RunDir, "run-dir", "", "folder for logs, InfluxDB's files and stack.json (default .cache/run in the repository)")
	f.BoolVar(&cfg.Demo, "demo", true, "run the demo traffic generator (dualread demo)")
	f.Float64Var(&cfg.DemoRate, "demo-rate", 10, "demo operations per second")
	f.DurationVar(&cfg.DemoDuration, "demo-duration", 30*time.Minute, "how long the demo sends traffic (0: until Ctrl-C)")
	f.BoolVar(&exitWithParent, "exit-with-parent", false, "stop everything when the parent process dies (for tests and supervisors that may be killed hard)")
	f.BoolVar(&noBridge, "no-bridge", false, "do not run kds-bridge (nothing replicates DynamoDB Local into the store)")
	return cmd
}

func hasSubcommand(root *cobra.Command, name string) bool {
	for _, c := range root.Commands() {
		if c.Name() == name {
			return true
		}
	}
	return false
}

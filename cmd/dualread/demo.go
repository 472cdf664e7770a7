package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/dualread/dualread/internal/demo"
)

func newDemoCmd() *cobra.Command {
	var (
		cfg                 demo.Config
		logLevel, logFormat string
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Send demo traffic: writes to DynamoDB, reads through the adapter, a few injected divergences",
		Long: "demo creates demo_orders and demo_catalog in DynamoDB (with a stream) and in the adapter, writes to DynamoDB at\n" +
			"--rate (puts, updates, deletes), reads through the adapter (GetItem, Query, Scan, BatchGetItem) as several services\n" +
			"(access keys the local stack's credentials file names), and injects divergences the audit should report: an item\n" +
			"only the adapter has, one the adapter holds differently, and reads that race replication (lag).\n" +
			"`make run` starts it; it stops after --duration or on SIGINT/SIGTERM.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(cmd.ErrOrStderr(), logLevel, logFormat)
			if err != nil {
				return err
			}
			cfg.Logger, cfg.Out = log, cmd.OutOrStdout()
			_, err = demo.Run(cmd.Context(), cfg)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Adapter, "adapter", "http://127.0.0.1:8000", "the adapter's endpoint URL")
	f.StringVar(&cfg.DynamoDB, "dynamodb", "http://127.0.0.1:8010", "DynamoDB's endpoint URL (DynamoDB Local in the local stack)")
	f.StringVar(&cfg.Region, "region", "us-east-1", "region to sign for")
	f.Float64Var(&cfg.Rate, "rate", 10, "operations per second, all kinds together")
	f.DurationVar(&cfg.Duration, "duration", 30*time.Minute, "stop after this long (0: until interrupted)")
	f.Uint64Var(&cfg.Seed, "seed", 1, "seed of the operation sequence")
	f.DurationVar(&cfg.ProgressEvery, "progress", 10*time.Second, "how often to print the counts")
	f.StringVar(&logLevel, "log-level", "info", "log level")
	f.StringVar(&logFormat, "log-format", "text", "log format: json or text")
	return cmd
}

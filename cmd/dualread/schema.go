package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/spf13/cobra"

	"github.com/dualread/dualread/adapter"
	"github.com/dualread/dualread/adapter/schema"
)

func newSchemaCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "schema", Short: "Copy table definitions from DynamoDB"}
	cmd.AddCommand(newSchemaImportCmd())
	return cmd
}

func newSchemaImportCmd() *cobra.Command {
	var (
		c                serveConfig
		from, fromRegion string
		tables           []string
		dryRun           bool
	)
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Create DynamoDB's tables (keys, GSIs, LSIs, TTL) on the adapter's backends",
		Long: "import reads ListTables and DescribeTable from a DynamoDB endpoint and creates the same tables on\n" +
			"the backend each table is routed to (--config). Tables that already exist are left alone (a\n" +
			"different definition is reported); nothing is ever dropped. Source credentials come from the\n" +
			"usual AWS environment (AWS_ACCESS_KEY_ID, profiles, ...).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			rc, err := resolveConfig(c, cmd.Flags().Changed, os.Getenv)
			if err != nil {
				return err
			}
			if rc.backend == adapter.BackendEmbedded && !dryRun {
				return errors.New("the embedded backend keeps nothing after exit: import into --backend bigtable or spanner (or use --dry-run)")
			}
			awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(fromRegion))
			if err != nil {
				return fmt.Errorf("source credentials: %w", err)
			}
			src := dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
				if from != "" {
					o.BaseEndpoint = aws.String(from)
				}
			})
			a, err := adapter.Open(ctx, adapter.Config{
				Backend: rc.backend, BigtableProject: rc.bigtableProject, BigtableInstance: rc.bigtableInstance,
				SpannerDatabase: rc.spannerDatabase, Routes: rc.routes, Region: rc.region,
			})
			if err != nil {
				return err
			}
			defer a.Close()
			steps, err := schema.Import(ctx, src, a.Executor, schema.Options{Tables: tables, DryRun: dryRun, BackendFor: a.BackendFor})
			schema.Report(cmd.OutOrStdout(), steps, dryRun)
			if err != nil {
				return err
			}
			for _, s := range steps {
				if s.Action == schema.Differs {
					return fmt.Errorf("%d table(s) differ from the source; see above", countDiffers(steps))
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&from, "from", "", "DynamoDB endpoint URL to read from (default: AWS's endpoint for --from-region)")
	f.StringVar(&fromRegion, "from-region", "us-east-1", "region of the source DynamoDB")
	f.StringSliceVar(&tables, "tables", nil, "only these tables (comma-separated; default: all)")
	f.BoolVar(&dryRun, "dry-run", false, "print the CreateTable and UpdateTimeToLive calls it would make, and change nothing")
	f.StringVar(&c.configFile, "config", "", "dualread.yaml: backends and per-table routing")
	f.StringVar(&c.backend, "backend", adapter.BackendEmbedded, "home backend: embedded, bigtable or spanner")
	f.StringVar(&c.bigtableProject, "bigtable-project", "", "Bigtable project")
	f.StringVar(&c.bigtableInstance, "bigtable-instance", "", "Bigtable instance")
	f.StringVar(&c.spannerDatabase, "spanner-database", "", "Spanner database projects/P/instances/I/databases/D")
	return cmd
}

func countDiffers(steps []schema.Step) int {
	n := 0
	for _, s := range steps {
		if s.Action == schema.Differs {
			n++
		}
	}
	return n
}

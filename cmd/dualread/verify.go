package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/spf13/cobra"

	"github.com/dualread/dualread/verify"
)

func newVerifyCmd() *cobra.Command {
	var (
		cfg                    verify.Config
		source, target, region string
		jsonOut                string
	)
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Compare a DynamoDB table with the adapter's copy: hashed key ranges first, then item by item",
		Long: "verify scans both sides with parallel segmented Scans, compares per-bucket digests of the items (sets and\n" +
			"numbers in canonical form), then reads only the differing buckets again to list missing, extra and\n" +
			"different items. Exit status 1 when the copies differ. Credentials come from the usual AWS environment.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if cfg.Table == "" || target == "" {
				return errors.New("--table and --target are required")
			}
			awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(region))
			if err != nil {
				return err
			}
			client := func(endpoint string) *dynamodb.Client {
				return dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
					if endpoint != "" {
						o.BaseEndpoint = aws.String(endpoint)
					}
				})
			}
			cfg.Source, cfg.Target = client(source), client(target)
			rep, err := verify.Run(ctx, cfg)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%s: %d items on the source, %d on the target; %d of %d key ranges differ; %d missing, %d extra, %d different (%s)\n",
				rep.Table, rep.SourceItems, rep.TargetItems, rep.DifferingBuckets, rep.Buckets, rep.Missing, rep.Extra, rep.Different, rep.Duration.Round(1e6))
			for _, s := range rep.Samples {
				fmt.Fprintf(out, "  %s %s\n", s.Kind, s.Key)
			}
			if jsonOut != "" {
				b, _ := json.MarshalIndent(rep, "", "  ")
				if err := os.WriteFile(jsonOut, b, 0o644); err != nil {
					return err
				}
			}
			if !rep.Equal() {
				return fmt.Errorf("%s differs", rep.Table)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Table, "table", "", "table to compare")
	f.StringVar(&cfg.TargetTable, "target-table", "", "name on the target (default: --table)")
	f.StringVar(&source, "source", "", "DynamoDB endpoint URL (default: AWS's for --region)")
	f.StringVar(&target, "target", "", "the adapter's endpoint URL")
	f.StringVar(&region, "region", "us-east-1", "region")
	f.IntVar(&cfg.Buckets, "buckets", 1024, "hashed key ranges")
	f.IntVar(&cfg.Segments, "segments", 4, "parallel Scan segments per side")
	f.Float64Var(&cfg.ReadRate, "read-rate", 0, "items per second per side at most (0: no limit)")
	f.IntVar(&cfg.SampleRows, "samples", 20, "example rows kept per kind of difference")
	f.StringVar(&jsonOut, "json", "", "also write the report as JSON to this file")
	return cmd
}

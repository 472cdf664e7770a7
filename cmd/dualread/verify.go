package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/spf13/cobra"

	"github.com/dualread/dualread/verify"
)

func newVerifyCmd() *cobra.Command {
	var (
		cfg                     verify.Config
		source, target, region  string
		jsonOut                 string
		influxURL, influxBucket string
		influxToken             string
		logLevel, logFormat     string
		prog                    progressFlags
	)
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Compare a DynamoDB table with the adapter's copy: hashed key ranges first, then item by item",
		Long: "verify scans both sides with parallel segmented Scans, compares per-bucket digests of the items (sets and\n" +
			"numbers in canonical form), then reads only the differing buckets again to list missing, extra and\n" +
			"different items. With --state it is resumable: rerun the same command after a crash or a kill.\n" +
			"Exit status 1 when the copies differ. Credentials come from the usual AWS environment.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if cfg.Table == "" || target == "" {
				return errors.New("--table and --target are required")
			}
			cfg.Progress = &verify.Progress{}
			stderr := cmd.ErrOrStderr()
			log, bar, err := prog.start("verify "+cfg.Table, stderr, cfg.Progress.Snapshot, func(w io.Writer) (*slog.Logger, error) {
				return newLogger(w, logLevel, logFormat)
			})
			if err != nil {
				return err
			}
			defer func() {
				if bar != nil {
					bar.Stop()
				}
			}()
			cfg.Logger = log
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
			if bar != nil {
				bar.Stop()
				bar = nil
			}
			if err != nil {
				if cfg.StateFile != "" && ctx.Err() != nil {
					return fmt.Errorf("%w (progress saved in %s: run the same command to resume)", err, cfg.StateFile)
				}
				return err
			}
			out := cmd.OutOrStdout()
			summary := out
			if jsonOut == "-" {
				summary = stderr // stdout carries the JSON alone
			}
			printReport(summary, rep)
			if jsonOut != "" {
				b, _ := json.MarshalIndent(rep, "", "  ")
				b = append(b, '\n')
				if jsonOut == "-" {
					if _, err := out.Write(b); err != nil {
						return err
					}
				} else if err := os.WriteFile(jsonOut, b, 0o644); err != nil {
					return err
				}
			}
			if influxURL != "" {
				if err := verify.WriteInflux(ctx, influxURL, influxToken, influxBucket, rep); err != nil {
					return fmt.Errorf("write %s to InfluxDB: %w", verify.Measurement, err)
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
	f.Int32Var(&cfg.PageLimit, "page-limit", 1000, "Scan Limit per page (also how often a segment's position can be saved)")
	f.Float64Var(&cfg.ReadRate, "read-rate", 0, "items per second per side at most (0: no limit)")
	f.IntVar(&cfg.SampleRows, "samples", 20, "example rows kept per kind of difference")
	f.StringVar(&jsonOut, "json", "", "also write the report as JSON to this file (- for stdout)")
	f.StringVar(&cfg.StateFile, "state", "", "state file making the run resumable (removed when the report is complete)")
	f.DurationVar(&cfg.StateEvery, "state-every", 2*time.Second, "how often the state file is saved")
	f.BoolVar(&cfg.Fresh, "fresh", false, "start over even if --state holds an unfinished run")
	f.StringVar(&influxURL, "influx", "", "InfluxDB URL: write the report as measurement "+verify.Measurement)
	f.StringVar(&influxBucket, "influx-bucket", "dualread/autogen", "InfluxDB bucket (db/retention-policy on 1.8)")
	f.StringVar(&influxToken, "influx-token", "", "InfluxDB token (user:password on 1.8 with auth)")
	prog.register(f)
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.StringVar(&logFormat, "log-format", "json", "log format: json or text")
	return cmd
}

// printReport writes the human summary: one line, then one per sample.
func printReport(w io.Writer, rep *verify.Report) {
	resumed := ""
	if rep.Resumed {
		resumed = ", resumed"
	}
	fmt.Fprintf(w, "%s: %s; %d items on the source, %d on the target; %d of %d key ranges differ; %d missing, %d extra, %d different (%s%s)\n",
		rep.Table, rep.Result, rep.SourceItems, rep.TargetItems, rep.DifferingBuckets, rep.Buckets, rep.Missing, rep.Extra, rep.Different,
		rep.Duration.Round(time.Millisecond), resumed)
	for _, s := range rep.Samples {
		fmt.Fprintf(w, "  %s %s", s.Kind, s.Key)
		if len(s.Attributes) > 0 {
			fmt.Fprintf(w, " %v", s.Attributes)
		}
		fmt.Fprintln(w)
	}
}

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/spf13/cobra"

	"github.com/dualread/dualread/drill"
)

func newDrillCmd() *cobra.Command {
	var (
		cfg                           drill.Config
		adapterURL, dynamoURL, region string
		streamprocURL, auditAddr      string
		influxURL, influxDB           string
		switchJSON, reportDir         string
		logLevel, logFormat           string
	)
	cmd := &cobra.Command{
		Use:   "drill",
		Short: "Rehearse a cutover: preflight, canary, drain, verify, switch, smoke test, roll back, report go/no-go",
		Long: "drill rehearses the cutover of --tables on the running system and puts everything back:\n" +
			"preflight (adapter admin API, stream processor, audit, InfluxDB) → canary (a marker item written to\n" +
			"DynamoDB, timed until the adapter serves it) → drain (replication lag under --lag-threshold) → verify\n" +
			"(--verify sample|full|off) → switch (the table's mode set through the admin API) → smoke reads through the\n" +
			"adapter compared with DynamoDB → roll back (the previous mode restored and checked) → report in Markdown and\n" +
			"JSON under --report-dir and a dualread_drill point in InfluxDB. The audit's mismatch rate over the last\n" +
			"--mismatch-window must not exceed --max-mismatch-rate. Exit status 1 on no-go, with the reasons.\n" +
			"--dry-run performs only the read-only steps and prints what the others would do.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if adapterURL == "" || len(cfg.AdminURLs) == 0 || len(cfg.Tables) == 0 {
				return errors.New("--adapter, --admin and --tables are required")
			}
			log, err := newLogger(cmd.ErrOrStderr(), logLevel, logFormat)
			if err != nil {
				return err
			}
			cfg.Logger = log
			if switchJSON != "" {
				if err := json.Unmarshal([]byte(switchJSON), &cfg.Switch); err != nil {
					return fmt.Errorf("--switch: %w", err)
				}
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
			cfg.Adapter, cfg.DynamoDB = client(adapterURL), client(dynamoURL)
			cfg.Health = map[string]string{}
			if streamprocURL != "" {
				cfg.Health["streamproc"] = strings.TrimRight(streamprocURL, "/") + "/healthz"
			}
			if auditAddr != "" {
				cfg.Health["audit"] = auditAddr
			}
			if influxURL != "" {
				cfg.Influx = &drill.Influx{URL: influxURL, Database: influxDB}
			}
			rep, err := drill.Run(ctx, cfg)
			if err != nil {
				return err
			}
			md, js, err := rep.WriteFiles(reportDir)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			rep.Markdown(out)
			fmt.Fprintf(out, "\nreport: %s, %s\n", md, js)
			if rep.Verdict == drill.VerdictNoGo {
				return fmt.Errorf("no-go: %s", strings.Join(rep.Reasons, "; "))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&adapterURL, "adapter", "", "the adapter's DynamoDB endpoint URL")
	f.StringSliceVar(&cfg.AdminURLs, "admin", nil, "the admin API URL of every adapter replica (serve --admin-listen); modes are per process, so the switch goes to each")
	f.BoolVar(&cfg.AdminEveryAddress, "admin-every-address", false, "resolve each --admin host and switch every address it resolves to (a Kubernetes headless Service over the adapter pods)")
	f.StringVar(&dynamoURL, "dynamodb", "", "DynamoDB endpoint URL (default: AWS's for --region)")
	f.StringVar(&region, "region", "us-east-1", "region")
	f.StringSliceVar(&cfg.Tables, "tables", nil, "tables to drill, e.g. orders,users")
	f.StringVar(&streamprocURL, "streamproc", "", "the stream processor's metrics URL (streamproc --metrics-listen), checked in preflight")
	f.StringVar(&auditAddr, "audit", "", "HOST:PORT of `dualread audit`, checked in preflight")
	f.StringVar(&influxURL, "influx", "", "InfluxDB URL: replication lag and audit counts are read from it, the drill's result written to it")
	f.StringVar(&influxDB, "influx-db", "dualread", "InfluxDB database")
	f.StringVar(&reportDir, "report-dir", ".", "directory for drill-RUN.md and drill-RUN.json")
	f.BoolVar(&cfg.DryRun, "dry-run", false, "change nothing: run the read-only steps, print the others")
	f.DurationVar(&cfg.LagThreshold, "lag-threshold", 5*time.Second, "drain passes when replication lag is under this")
	f.DurationVar(&cfg.CanaryTimeout, "canary-timeout", time.Minute, "how long the marker item may take to reach the adapter")
	f.StringVar(&cfg.Verify, "verify", "sample", "sample (--verify-sample items looked up on the adapter), full (every item, as `dualread verify`) or off")
	f.IntVar(&cfg.VerifySample, "verify-sample", 200, "items compared by a sampled verify")
	f.Float64Var(&cfg.MaxMismatchRate, "max-mismatch-rate", 0, "largest acceptable share of diverging audit pairs over --mismatch-window")
	f.DurationVar(&cfg.MismatchWindow, "mismatch-window", 24*time.Hour, "how far back the audit's mismatch rate is read")
	f.Int64Var(&cfg.MinAuditPairs, "min-audit-pairs", 0, "fewer audited pairs than this over the window is a no-go (0: not required)")
	f.StringVar(&switchJSON, "switch", "", `mode the tables are switched to (default {"serve":"store","shadow":"off"}; add "writes":"serve" to rehearse writes too, which sends application writes during the smoke test to the store only)`)
	f.IntVar(&cfg.SmokeReads, "smoke-reads", 20, "reads through the switched adapter compared with DynamoDB")
	f.StringVar(&logLevel, "log-level", "info", "log level")
	f.StringVar(&logFormat, "log-format", "text", "log format: json or text")
	return cmd
}

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/dualread/dualread/adapter"
	"github.com/dualread/dualread/streamproc"
	"github.com/dualread/dualread/streamproc/backfill"
	"github.com/dualread/dualread/streamproc/kinesis"
	"github.com/dualread/dualread/streamproc/metrics"
)

// targetFlags select the backends replicated changes are written to (the
// same settings as serve: --config, --backend, ...).
type targetFlags struct {
	c                 serveConfig
	influxURL, bucket string
	metricsEvery      time.Duration
	metricsListen     string
	awsRegion, awsURL string
	workers           int
	tableMap          map[string]string
}

func (t *targetFlags) register(f *pflag.FlagSet, source string) {
	f.StringVar(&t.c.configFile, "config", "", "dualread.yaml: backends and per-table routing of the target")
	f.StringVar(&t.c.backend, "backend", adapter.BackendBigtable, "home backend of the target: bigtable or spanner (embedded would lose the data on exit)")
	f.StringVar(&t.c.bigtableProject, "bigtable-project", "", "Bigtable project")
	f.StringVar(&t.c.bigtableInstance, "bigtable-instance", "", "Bigtable instance")
	f.StringVar(&t.c.spannerDatabase, "spanner-database", "", "Spanner database projects/P/instances/I/databases/D")
	f.StringVar(&t.c.logLevel, "log-level", "info", "log level")
	f.StringVar(&t.c.logFormat, "log-format", "json", "log format: json or text")
	f.StringVar(&t.influxURL, "influx", "", "InfluxDB URL for replication metrics (lag per table)")
	f.StringVar(&t.bucket, "influx-bucket", "dualread/autogen", "InfluxDB bucket")
	f.DurationVar(&t.metricsEvery, "metrics-interval", 10*time.Second, "how often lag and counts are written to InfluxDB")
	f.StringVar(&t.metricsListen, "metrics-listen", "", "address for Prometheus /metrics (empty: none)")
	f.StringVar(&t.awsRegion, "source-region", "us-east-1", "AWS region of the source ("+source+")")
	f.StringVar(&t.awsURL, "source-endpoint", "", "endpoint URL of the source "+source+" (default: AWS's)")
	f.IntVar(&t.workers, "workers", 16, "per-item ordered apply lanes")
	f.StringToStringVar(&t.tableMap, "table-map", nil, "rename tables on the way: source=target,... (default: same names)")
}

// target is an opened replication target.
type target struct {
	a       *adapter.Adapter
	applier *streamproc.Applier
	rec     *metrics.Recorder
	aws     aws.Config
	stop    func()
}

func (t *targetFlags) open(ctx context.Context, cmd *cobra.Command, source string) (*target, error) {
	rc, err := resolveConfig(t.c, cmd.Flags().Changed, os.Getenv)
	if err != nil {
		return nil, err
	}
	log, err := newLogger(cmd.ErrOrStderr(), rc.logLevel, rc.logFormat)
	if err != nil {
		return nil, err
	}
	if rc.backend == adapter.BackendEmbedded {
		return nil, errors.New("--backend embedded keeps nothing after exit; replicate into bigtable or spanner")
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(t.awsRegion))
	if err != nil {
		return nil, fmt.Errorf("source credentials: %w", err)
	}
	a, err := adapter.Open(ctx, adapter.Config{Backend: rc.backend, BigtableProject: rc.bigtableProject,
		BigtableInstance: rc.bigtableInstance, SpannerDatabase: rc.spannerDatabase, Routes: rc.routes, Logger: log})
	if err != nil {
		return nil, err
	}
	dl, err := streamproc.NewDeadLetters(ctx, a.Store)
	if err != nil {
		a.Close()
		return nil, err
	}
	rec := metrics.New(nil)
	ap, err := streamproc.NewApplier(streamproc.Config{Target: a.Executor, DeadLetter: dl, Metrics: rec, Source: source,
		Workers: t.workers, TableMap: t.tableMap, Logger: log})
	if err != nil {
		a.Close()
		return nil, err
	}
	mctx, cancel := context.WithCancel(ctx)
	if t.influxURL != "" {
		go metrics.Run(mctx, rec, metrics.NewInfluxSink(t.influxURL, "", t.bucket), t.metricsEvery, log)
	}
	var srv *http.Server
	if t.metricsListen != "" {
		ln, err := net.Listen("tcp", t.metricsListen)
		if err != nil {
			cancel()
			a.Close()
			return nil, err
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", rec)
		mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
		srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
	}
	return &target{a: a, applier: ap, rec: rec, aws: awsCfg, stop: func() {
		cancel()
		if srv != nil {
			srv.Close()
		}
		a.Close()
	}}, nil
}

func newStreamprocCmd() *cobra.Command {
	var (
		t      targetFlags
		stream string
		lease  time.Duration
		owner  string
	)
	cmd := &cobra.Command{
		Use:   "streamproc",
		Short: "Replay DynamoDB change records from Kinesis into the target, in order, with checkpoints and leases",
		Long: "streamproc consumes a Kinesis Data Stream fed by DynamoDB (Kinesis Data Streams for DynamoDB) and applies each\n" +
			"change to the target with last-writer-wins on ApproximateCreationDateTime. Several instances share the\n" +
			"shards through leases kept in the target; checkpoints are written only after the changes committed.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if stream == "" {
				return errors.New("--stream is required")
			}
			tg, err := t.open(ctx, cmd, "kinesis")
			if err != nil {
				return err
			}
			defer tg.stop()
			kc := awskinesis.NewFromConfig(tg.aws, func(o *awskinesis.Options) {
				if t.awsURL != "" {
					o.BaseEndpoint = aws.String(t.awsURL)
				}
			})
			c, err := kinesis.New(ctx, kinesis.Config{Client: kc, Stream: stream, Store: tg.a.Store, Applier: tg.applier,
				Metrics: tg.rec, LeaseDuration: lease, Owner: owner})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "dualread streamproc consuming %s\n", stream)
			err = c.Run(ctx)
			// Hand the shards over at once rather than after lease expiry.
			rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c.Release(rctx)
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		},
	}
	f := cmd.Flags()
	t.register(f, "Kinesis")
	f.StringVar(&stream, "stream", "", "Kinesis stream name")
	f.DurationVar(&lease, "lease", 10*time.Second, "shard lease duration: a dead instance's shards move after at most this")
	f.StringVar(&owner, "owner", "", "this instance's lease owner id (default: random)")
	return cmd
}

func newBackfillCmd() *cobra.Command {
	var (
		t               targetFlags
		table, segments string
		parallel        int
		pageLimit       int32
		readRate        float64
	)
	cmd := &cobra.Command{
		Use:   "backfill",
		Short: "Copy a DynamoDB table into the target with a parallel segmented Scan; resumable",
		Long: "backfill scans the source table (its segments, e.g. --segments 0-15/64 so many processes or pods split it),\n" +
			"checkpointing each segment's LastEvaluatedKey in the target, and writes each item unless the stream processor\n" +
			"already applied a newer version. Run it again to resume after a failure.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if table == "" {
				return errors.New("--table is required")
			}
			seg, err := backfill.ParseSegments(segments)
			if err != nil {
				return fmt.Errorf("--segments: %w", err)
			}
			tg, err := t.open(ctx, cmd, "backfill")
			if err != nil {
				return err
			}
			defer tg.stop()
			src := dynamodb.NewFromConfig(tg.aws, func(o *dynamodb.Options) {
				if t.awsURL != "" {
					o.BaseEndpoint = aws.String(t.awsURL)
				}
			})
			var estimate int64
			if d, err := src.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}); err == nil && d.Table.ItemCount != nil {
				estimate = *d.Table.ItemCount * int64(seg.To-seg.From+1) / int64(max(seg.Total, 1))
			}
			out := cmd.OutOrStdout()
			progress := cmd.ErrOrStderr() // a progress line, not the result: keep stdout for the summary
			p, err := backfill.Run(ctx, backfill.Config{DynamoDB: src, Table: table, Store: tg.a.Store, Applier: tg.applier,
				Segments: seg, Parallel: parallel, PageLimit: pageLimit, ReadRate: readRate, EstimatedItems: estimate,
				Progress: func(p backfill.Progress) {
					fmt.Fprintf(progress, "%d items, %d/%d segments, %.0f items/s, ETA %s\n", p.Items, p.SegmentsDone, p.Of, p.Rate, p.ETA.Round(time.Second))
				}})
			fmt.Fprintf(out, "backfill %s: %d items (%d applied, %d stale, %d duplicate, %d dead-lettered) in %s\n",
				table, p.Items, p.Applied, p.Stale, p.Duplicate, p.Letters, p.Elapsed.Round(time.Millisecond))
			return err
		},
	}
	f := cmd.Flags()
	t.register(f, "DynamoDB")
	f.StringVar(&table, "table", "", "DynamoDB table to copy")
	f.StringVar(&segments, "segments", "0-15/16", "segment range of TotalSegments, e.g. 0-15/64 (split across processes: 0-31/64 and 32-63/64)")
	f.IntVar(&parallel, "parallel", 4, "segments scanned at once")
	f.Int32Var(&pageLimit, "page-limit", 500, "Scan Limit per page")
	f.Float64Var(&readRate, "read-rate", 0, "items read per second at most (0: no limit)")
	return cmd
}

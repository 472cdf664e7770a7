package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/dualread/dualread/adapter"
	"github.com/dualread/dualread/adapter/dynamo"
	"github.com/dualread/dualread/internal/progress"
	"github.com/dualread/dualread/streamproc"
	"github.com/dualread/dualread/streamproc/backfill"
	"github.com/dualread/dualread/streamproc/ddbstreams"
	"github.com/dualread/dualread/streamproc/kinesis"
	"github.com/dualread/dualread/streamproc/lambda"
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
	logOut            io.Writer // where the logger writes (default stderr); backfill's progress bar sets it
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
	log     *slog.Logger
	stop    func()
}

// startSweeper collects old tombstones of tables (every target table when
// empty), and runs the extra collectors, in the background until ctx ends.
func (tg *target) startSweeper(ctx context.Context, p *streamprocFlags, tables []string,
	extra map[string]func(context.Context, time.Time) (int, error)) error {
	if p.sweepTTL <= 0 {
		tg.log.Warn("tombstone collection off (--tombstone-retention 0): tombstones are kept forever")
		return nil
	}
	list := func(ctx context.Context) ([]string, error) {
		if len(tables) > 0 {
			return tables, nil
		}
		return listTables(ctx, tg.a.Executor)
	}
	sw, err := streamproc.NewSweeper(ctx, streamproc.SweepConfig{Target: tg.a.Executor, Store: tg.a.Store, Tables: list,
		Retention: p.sweepTTL, Every: p.sweep, RowsPerSecond: p.sweepRPS, Extra: extra, Owner: p.owner, Logger: tg.log})
	if err != nil {
		return err
	}
	go sw.Run(ctx)
	return nil
}

// listTables lists every table of the target.
func listTables(ctx context.Context, ex *dynamo.Executor) ([]string, error) {
	var out []string
	body := []byte(`{}`)
	for {
		raw, err := ex.Do(ctx, "ListTables", body)
		if err != nil {
			return nil, err
		}
		var page struct {
			TableNames             []string
			LastEvaluatedTableName *string
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			return nil, err
		}
		out = append(out, page.TableNames...)
		if page.LastEvaluatedTableName == nil {
			return out, nil
		}
		body, _ = json.Marshal(map[string]string{"ExclusiveStartTableName": *page.LastEvaluatedTableName})
	}
}

func (t *targetFlags) open(ctx context.Context, cmd *cobra.Command, source string) (*target, error) {
	rc, err := resolveConfig(t.c, cmd.Flags().Changed, os.Getenv)
	if err != nil {
		return nil, err
	}
	logOut := t.logOut
	if logOut == nil {
		logOut = cmd.ErrOrStderr()
	}
	log, err := newLogger(logOut, rc.logLevel, rc.logFormat)
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
	flushed := make(chan struct{})
	if t.influxURL != "" {
		go func() {
			defer close(flushed)
			metrics.Run(mctx, rec, metrics.NewInfluxSink(t.influxURL, "", t.bucket), t.metricsEvery, log)
		}()
	} else {
		close(flushed)
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
	return &target{a: a, applier: ap, rec: rec, aws: awsCfg, log: log, stop: func() {
		cancel()
		<-flushed // the last interval's lag and counts reach InfluxDB before exit (Run bounds it to 5 s)
		if srv != nil {
			srv.Close()
		}
		a.Close()
	}}, nil
}

// Change sources of streamproc.
const (
	sourceKinesis         = "kinesis"
	sourceLambda          = "lambda"
	sourceDynamoDBStreams = "dynamodbstreams"
)

// streamprocFlags are streamproc's own flags (besides the target's).
type streamprocFlags struct {
	source   string
	stream   string
	listen   string
	token    string
	maxBody  int64
	tables   []string
	lease    time.Duration
	owner    string
	sweep    time.Duration
	sweepTTL time.Duration
	sweepRPS float64
}

// check refuses flags of another source than the chosen one: they would
// be ignored, which is never what the operator meant.
func (p *streamprocFlags) check(changed func(string) bool) error {
	only := map[string]string{"stream": sourceKinesis, "tables": sourceDynamoDBStreams,
		"listen": sourceLambda, "lambda-token": sourceLambda, "max-body": sourceLambda}
	for flag, src := range only {
		if changed(flag) && p.source != src {
			return fmt.Errorf("--%s is for --source %s, not %s", flag, src, p.source)
		}
	}
	return nil
}

func newStreamprocCmd() *cobra.Command {
	var (
		t targetFlags
		p streamprocFlags
	)
	cmd := &cobra.Command{
		Use:   "streamproc",
		Short: "Replay DynamoDB change records (Kinesis, DynamoDB Streams or Lambda-forwarded batches) into the target, in order, with checkpoints and leases",
		Long: "streamproc applies DynamoDB's change records to the target with last-writer-wins, from one of three sources:\n" +
			"  --source kinesis          a Kinesis Data Stream fed by DynamoDB (Kinesis Data Streams for DynamoDB), --stream NAME\n" +
			"  --source dynamodbstreams  the tables' DynamoDB Streams (--tables a,b, default every table with a stream)\n" +
			"  --source lambda           an HTTP endpoint (--listen ADDR) for batches a Lambda function forwards\n" +
			"Several instances share shards through leases kept in the target; checkpoints are written only after the\n" +
			"changes committed. Tombstones of replicated deletes older than --tombstone-retention are collected.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if err := p.check(cmd.Flags().Changed); err != nil {
				return err
			}
			switch p.source {
			case sourceKinesis:
				if p.stream == "" {
					return errors.New("--stream is required with --source kinesis")
				}
			case sourceLambda:
				if p.listen == "" {
					return errors.New("--listen is required with --source lambda")
				}
			case sourceDynamoDBStreams:
			default:
				return fmt.Errorf("--source %q: want kinesis, lambda or dynamodbstreams", p.source)
			}
			tg, err := t.open(ctx, cmd, p.source)
			if err != nil {
				return err
			}
			defer tg.stop()
			var err2 error
			switch p.source {
			case sourceKinesis:
				err2 = runKinesis(ctx, cmd, &t, &p, tg)
			case sourceLambda:
				err2 = runLambda(ctx, cmd, &t, &p, tg)
			case sourceDynamoDBStreams:
				err2 = runDynamoDBStreams(ctx, cmd, &t, &p, tg)
			}
			if errors.Is(err2, context.Canceled) {
				return nil
			}
			return err2
		},
	}
	f := cmd.Flags()
	t.register(f, "Kinesis or DynamoDB Streams")
	f.StringVar(&p.source, "source", sourceKinesis, "where changes come from: kinesis, dynamodbstreams or lambda")
	f.StringVar(&p.stream, "stream", "", "Kinesis stream name (--source kinesis)")
	f.StringSliceVar(&p.tables, "tables", nil, "source tables whose DynamoDB Streams to replicate (--source dynamodbstreams; default: every table with a stream)")
	f.StringVar(&p.listen, "listen", "", "address of the HTTP endpoint for Lambda-forwarded batches (--source lambda), e.g. 127.0.0.1:9100")
	f.StringVar(&p.token, "lambda-token", "", "bearer token the Lambda forwarder must send (--source lambda; default: none required)")
	f.Int64Var(&p.maxBody, "max-body", lambda.DefaultMaxBody, "largest accepted request body in bytes (--source lambda)")
	f.DurationVar(&p.lease, "lease", 10*time.Second, "shard lease duration: a dead instance's shards move after at most this")
	f.StringVar(&p.owner, "owner", "", "this instance's lease owner id (default: random)")
	f.DurationVar(&p.sweepTTL, "tombstone-retention", 24*time.Hour,
		"collect tombstones of replicated deletes older than this; must exceed how late a change can arrive (stream retention + lag); 0: never collect")
	f.DurationVar(&p.sweep, "tombstone-sweep-every", time.Hour, "how often each target table is swept for old tombstones")
	f.Float64Var(&p.sweepRPS, "tombstone-sweep-rate", 1000, "rows per second a tombstone sweep reads at most")
	return cmd
}

func runKinesis(ctx context.Context, cmd *cobra.Command, t *targetFlags, p *streamprocFlags, tg *target) error {
	kc := awskinesis.NewFromConfig(tg.aws, func(o *awskinesis.Options) {
		if t.awsURL != "" {
			o.BaseEndpoint = aws.String(t.awsURL)
		}
	})
	c, err := kinesis.New(ctx, kinesis.Config{Client: kc, Stream: p.stream, Store: tg.a.Store, Applier: tg.applier,
		Metrics: tg.rec, LeaseDuration: p.lease, Owner: p.owner, Logger: tg.log})
	if err != nil {
		return err
	}
	if err := tg.startSweeper(ctx, p, nil, nil); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "dualread streamproc consuming %s\n", p.stream)
	err = c.Run(ctx)
	// Hand the shards over at once rather than after lease expiry.
	rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c.Release(rctx)
	return err
}

func runDynamoDBStreams(ctx context.Context, cmd *cobra.Command, t *targetFlags, p *streamprocFlags, tg *target) error {
	sc := dynamodbstreams.NewFromConfig(tg.aws, func(o *dynamodbstreams.Options) {
		if t.awsURL != "" {
			o.BaseEndpoint = aws.String(t.awsURL)
		}
	})
	dc := dynamodb.NewFromConfig(tg.aws, func(o *dynamodb.Options) {
		if t.awsURL != "" {
			o.BaseEndpoint = aws.String(t.awsURL)
		}
	})
	c, err := ddbstreams.New(ctx, ddbstreams.Config{Client: sc, DynamoDB: dc, Tables: p.tables, Store: tg.a.Store,
		Applier: tg.applier, Metrics: tg.rec, LeaseDuration: p.lease, Owner: p.owner, Logger: tg.log})
	if err != nil {
		return err
	}
	var sweepTables []string // default: every target table
	for _, s := range p.tables {
		if m, ok := t.tableMap[s]; ok {
			s = m
		}
		sweepTables = append(sweepTables, s)
	}
	if err := tg.startSweeper(ctx, p, sweepTables, nil); err != nil {
		return err
	}
	what := "every table's DynamoDB Stream"
	if len(p.tables) > 0 {
		what = "the DynamoDB Streams of " + strings.Join(p.tables, ",")
	}
	fmt.Fprintf(cmd.OutOrStdout(), "dualread streamproc consuming %s\n", what)
	err = c.Run(ctx)
	rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c.Release(rctx)
	return err
}

func runLambda(ctx context.Context, cmd *cobra.Command, t *targetFlags, p *streamprocFlags, tg *target) error {
	stamps, err := lambda.NewItemStamps(ctx, tg.a.Store)
	if err != nil {
		return err
	}
	h, err := lambda.New(lambda.Config{Applier: tg.applier, Stamps: stamps, Metrics: tg.rec, MaxBody: p.maxBody,
		Token: p.token, Logger: tg.log})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", p.listen)
	if err != nil {
		return err
	}
	if err := tg.startSweeper(ctx, p, nil, map[string]func(context.Context, time.Time) (int, error){"lambda_stamps": stamps.Collect}); err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(cmd.OutOrStdout(), "dualread streamproc listening for Lambda batches on %s\n", ln.Addr())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	// Let in-flight batches finish: a batch cut off is retried by Lambda,
	// but finishing it saves the retry.
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

func newBackfillCmd() *cobra.Command {
	var (
		t               targetFlags
		table, segments string
		parallel        int
		pageLimit       int32
		readRate        float64
		prog            progressFlags
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
			// The reporter reads the latest progress backfill.Run reports.
			var latest atomic.Pointer[backfill.Progress]
			var estimate atomic.Int64
			read := func() progress.Snapshot {
				var items int64
				if p := latest.Load(); p != nil {
					items = p.Items
				}
				return progress.Snapshot{Counts: []progress.Count{{Name: "items", Done: items, Total: estimate.Load()}}}
			}
			_, bar, err := prog.start("backfill "+table, cmd.ErrOrStderr(), read, func(w io.Writer) (*slog.Logger, error) {
				t.logOut = w // the target's logger writes through the bar too
				return newLogger(w, t.c.logLevel, t.c.logFormat)
			})
			if err != nil {
				return err
			}
			defer func() {
				if bar != nil {
					bar.Stop()
				}
			}()
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
			if d, err := src.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}); err == nil && d.Table.ItemCount != nil {
				estimate.Store(*d.Table.ItemCount * int64(seg.To-seg.From+1) / int64(max(seg.Total, 1)))
			}
			out := cmd.OutOrStdout()
			p, err := backfill.Run(ctx, backfill.Config{DynamoDB: src, Table: table, Store: tg.a.Store, Applier: tg.applier,
				Segments: seg, Parallel: parallel, PageLimit: pageLimit, ReadRate: readRate, EstimatedItems: estimate.Load(),
				ProgressEvery: time.Second, Progress: func(p backfill.Progress) { latest.Store(&p) }})
			if bar != nil {
				bar.Stop()
				bar = nil
			}
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
	prog.register(f)
	return cmd
}

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"cloud.google.com/go/bigtable"
	"cloud.google.com/go/pubsub/v2"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	"github.com/dualread/dualread/adapter/shadow"
	"github.com/dualread/dualread/audit"
	"github.com/dualread/dualread/audit/diff"
	"github.com/dualread/dualread/audit/sink"
)

// serveAuditMetrics serves GET /metrics with the service's counters.
func serveAuditMetrics(addr string, svc *audit.Service) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		audit.WritePrometheus(w, svc.Stats())
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return func() { srv.Close() }, nil
}

// pairFlags locate the Bigtable pair store.
type pairFlags struct {
	project, instance, table string
	ttl                      time.Duration
}

func (p *pairFlags) enabled() bool { return p.project != "" && p.instance != "" }

func (p *pairFlags) open(ctx context.Context) (*bigtable.Client, error) {
	return bigtable.NewClientWithConfig(ctx, p.project, p.instance, bigtable.ClientConfig{MetricsProvider: bigtable.NoopMetricsProvider{}})
}

func newAuditCmd() *cobra.Command {
	var (
		listen, logLevel, logFormat           string
		influxURL, influxBucket               string
		interval, lagDelay                    time.Duration
		pubsubProject, pubsubTopic            string
		rereadAdapter, rereadDynamo, ddRegion string
		metricsListen                         string
		noiseSample, noiseMargin              float64
		noiseMinReads                         int
		pairs                                 pairFlags
	)
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Receive shadow pairs over gRPC, diff and classify them, write metrics and mismatches",
		Long: "audit serves the Ingest stream of proto/audit.proto. Each pair is normalised, diffed and classified\n" +
			"(match, mismatch, missing-on-primary, missing-on-shadow, error-mismatch, lag); counts and latencies go to\n" +
			"InfluxDB per interval, diverging pairs to a Pub/Sub topic and to the Bigtable pair store (see audit show).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			log, err := newLogger(cmd.ErrOrStderr(), logLevel, logFormat)
			if err != nil {
				return err
			}
			var sinks []audit.Sink
			if influxURL != "" {
				sinks = append(sinks, sink.NewInflux(sink.InfluxConfig{URL: influxURL, Bucket: influxBucket, Interval: interval, Logger: log}))
			}
			if pubsubTopic != "" {
				pc, err := pubsub.NewClient(ctx, pubsubProject)
				if err != nil {
					return fmt.Errorf("pubsub: %w", err)
				}
				defer pc.Close()
				sinks = append(sinks, sink.NewPubSub(pc, pubsubTopic))
			}
			if pairs.enabled() {
				ac, err := bigtable.NewAdminClient(ctx, pairs.project, pairs.instance)
				if err != nil {
					return err
				}
				defer ac.Close()
				if err := sink.EnsurePairTable(ctx, ac, pairs.table, pairs.ttl); err != nil {
					return fmt.Errorf("pair table: %w", err)
				}
				bc, err := pairs.open(ctx)
				if err != nil {
					return err
				}
				defer bc.Close()
				sinks = append(sinks, sink.NewPairStore(bc, pairs.table))
			}
			cfg := audit.Config{Logger: log, LagDelay: lagDelay,
				NoiseSample: noiseSample, NoiseMargin: noiseMargin, NoiseMinReads: noiseMinReads}
			if rereadAdapter != "" && rereadDynamo != "" {
				awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(ddRegion))
				if err != nil {
					return err
				}
				cfg.Rereader = shadow.Rereader{
					// The adapter's endpoint reads the store for tables it
					// serves; for DynamoDB-served tables it forwards, so
					// their store side cannot be re-read from here.
					Store: shadow.NewDynamoDB(rereadAdapter, ddRegion, awsCfg.Credentials), StoreViaAdapter: true,
					DynamoDB: shadow.NewDynamoDB(rereadDynamo, ddRegion, awsCfg.Credentials),
				}
			} else if noiseSample > 0 {
				return errors.New("--noise-sample needs --reread-adapter and --reread-dynamodb (calibration reads DynamoDB)")
			}
			svc, err := audit.NewService(cfg, sinks...)
			if err != nil {
				return err
			}
			if metricsListen != "" {
				stop, err := serveAuditMetrics(metricsListen, svc)
				if err != nil {
					return err
				}
				defer stop()
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return err
			}
			gs := grpc.NewServer()
			svc.RegisterGRPC(gs)
			fmt.Fprintf(cmd.OutOrStdout(), "dualread audit listening on %s (%d sinks)\n", ln.Addr(), len(sinks))
			errc := make(chan error, 1)
			go func() { errc <- gs.Serve(ln) }()
			select {
			case err := <-errc:
				return err
			case <-ctx.Done():
			}
			gs.GracefulStop()
			sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			return svc.Close(sctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:9180", "gRPC address of the Ingest service")
	f.StringVar(&influxURL, "influx", "", "InfluxDB URL (1.8 with /api/v2/write, or 2.x)")
	f.StringVar(&influxBucket, "influx-bucket", "dualread/autogen", "InfluxDB bucket (db/retention-policy on 1.8)")
	f.DurationVar(&interval, "interval", 10*time.Second, "aggregation interval of the InfluxDB points")
	f.StringVar(&pubsubProject, "pubsub-project", "", "Pub/Sub project of --pubsub-topic (PUBSUB_EMULATOR_HOST selects an emulator)")
	f.StringVar(&pubsubTopic, "pubsub-topic", "", "topic receiving diverging pairs (must exist)")
	f.StringVar(&pairs.project, "pairs-project", "", "Bigtable project of the pair store")
	f.StringVar(&pairs.instance, "pairs-instance", "", "Bigtable instance of the pair store")
	f.StringVar(&pairs.table, "pairs-table", "dualread_audit_pairs", "Bigtable table of the pair store")
	f.DurationVar(&pairs.ttl, "pairs-ttl", 7*24*time.Hour, "how long pairs are kept (Bigtable GC max-age)")
	f.StringVar(&rereadAdapter, "reread-adapter", "", "adapter URL, to re-read diverging pairs (lag detection)")
	f.StringVar(&rereadDynamo, "reread-dynamodb", "", "DynamoDB URL, to re-read diverging pairs (lag detection)")
	f.StringVar(&ddRegion, "region", "us-east-1", "region for re-read requests")
	f.DurationVar(&lagDelay, "lag-delay", 2*time.Second, "delay before a diverging pair is re-read")
	f.Float64Var(&noiseSample, "noise-sample", 0, "fraction of pairs for which DynamoDB is read twice more to calibrate its noise (0: off; needs --reread-dynamodb)")
	f.Float64Var(&noiseMargin, "noise-margin", 1.25, "a path is noise when its mismatch rate is at most its DynamoDB self-disagreement rate times this")
	f.IntVar(&noiseMinReads, "noise-min-reads", 20, "calibrations a table needs before any of its paths counts as noise")
	f.StringVar(&metricsListen, "metrics-listen", "", "address serving GET /metrics (Prometheus text: records, classes, re-reads, calibrations, per-sink written/dropped/errors); empty: none")
	f.StringVar(&logLevel, "log-level", "info", "log level")
	f.StringVar(&logFormat, "log-format", "json", "log format: json or text")
	cmd.AddCommand(newAuditShowCmd())
	return cmd
}

func newAuditShowCmd() *cobra.Command {
	var (
		table string
		since time.Duration
		pairs pairFlags
	)
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Print a table's diverging, lag and suppressed pairs from the pair store, newest first, with their diffs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !pairs.enabled() || table == "" {
				return errors.New("audit show needs --table, --pairs-project and --pairs-instance")
			}
			ctx := cmd.Context()
			bc, err := pairs.open(ctx)
			if err != nil {
				return err
			}
			defer bc.Close()
			list, err := sink.NewPairStore(bc, pairs.table).List(ctx, table, time.Now().Add(-since))
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, p := range list {
				r := p.Record
				fmt.Fprintf(out, "%s %s %s %s (first %s) id=%s service=%s\n  request: %s\n  diff: %s\n",
					r.GetTime().AsTime().Format(time.RFC3339), r.GetTable(), r.GetOperation(), p.Class, p.Initial,
					r.GetId(), r.GetService(), r.GetRequestJson(), p.Patch)
				if len(p.Noise) > 0 {
					fmt.Fprintf(out, "  noise: %s\n", strings.Join(p.Noise, " "))
				}
			}
			counts := map[diff.Class]int{}
			for _, p := range list {
				counts[p.Class]++
			}
			var parts []string
			for _, c := range diff.Classes {
				if counts[c] > 0 {
					parts = append(parts, fmt.Sprintf("%s %d", c, counts[c]))
				}
			}
			fmt.Fprintf(out, "%d pairs since %s (%s)\n", len(list), time.Now().Add(-since).Format(time.RFC3339), strings.Join(parts, ", "))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&table, "table", "", "DynamoDB table name")
	f.DurationVar(&since, "since", time.Hour, "how far back")
	f.StringVar(&pairs.project, "pairs-project", "", "Bigtable project of the pair store")
	f.StringVar(&pairs.instance, "pairs-instance", "", "Bigtable instance of the pair store")
	f.StringVar(&pairs.table, "pairs-table", "dualread_audit_pairs", "Bigtable table of the pair store")
	return cmd
}

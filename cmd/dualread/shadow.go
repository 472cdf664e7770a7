package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/spf13/pflag"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/dualread/dualread/adapter"
	"github.com/dualread/dualread/adapter/modes"
	"github.com/dualread/dualread/adapter/shadow"
	"github.com/dualread/dualread/audit"
	"github.com/dualread/dualread/audit/sink"
	"github.com/dualread/dualread/proto/auditpb"
)

// shadowFlags configure shadow reads and the in-process audit service.
type shadowFlags struct {
	endpoint, region        string
	sample, rate            float64
	audit                   string
	influxURL, influxBucket string
	influxInterval          time.Duration
	lagDelay                time.Duration
	noiseSample             float64
	noiseMargin             float64
}

func (f *shadowFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.endpoint, "shadow-endpoint", "", "DynamoDB endpoint to shadow-read (e.g. https://dynamodb.us-east-1.amazonaws.com); empty: no shadow reads. Credentials from the usual AWS environment")
	fs.StringVar(&f.region, "shadow-region", "us-east-1", "region of the shadowed DynamoDB")
	fs.Float64Var(&f.sample, "shadow-sample", 1, "fraction of reads to shadow, 0..1")
	fs.Float64Var(&f.rate, "shadow-rate", 100, "shadow requests per second at most (they spend DynamoDB read capacity); <0: unlimited")
	fs.StringVar(&f.audit, "audit", "embedded", "where shadow pairs go: embedded (an audit service in this process) or HOST:PORT of `dualread audit`")
	fs.StringVar(&f.influxURL, "audit-influx", "", "InfluxDB URL for the embedded audit's metrics (InfluxDB 1.8 with /api/v2/write)")
	fs.StringVar(&f.influxBucket, "audit-influx-bucket", "dualread/autogen", "InfluxDB bucket (db/retention-policy)")
	fs.DurationVar(&f.influxInterval, "audit-interval", 10*time.Second, "aggregation interval of the audit's InfluxDB points")
	fs.DurationVar(&f.lagDelay, "audit-lag-delay", 2*time.Second, "delay before a diverging pair is re-read to tell replication lag from divergence")
	fs.Float64Var(&f.noiseSample, "audit-noise-sample", 0, "fraction of pairs for which the embedded audit reads DynamoDB twice more to calibrate its noise (0: off); mismatches only at noisy paths are counted suppressed")
	fs.Float64Var(&f.noiseMargin, "audit-noise-margin", 1.25, "a path is noise when its mismatch rate is at most its DynamoDB self-disagreement rate times this")
}

// shadowSetup is what serve needs to run shadow reads with an embedded audit.
type shadowSetup struct {
	cfg   *adapter.ShadowConfig
	sink  *lateSink
	start func(a *adapter.Adapter) error // builds the audit once the adapter exists
	close func(ctx context.Context) error
	// metrics writes the audit's counters (embedded service or remote
	// client) for the admin /metrics; set by start.
	metrics func(io.Writer)
}

// lateSink forwards to the audit sink, which exists only once the adapter
// (its re-reader's primary side) has been opened.
type lateSink struct {
	s atomic.Pointer[shadow.AuditSink]
}

func (l *lateSink) Submit(r shadow.Record) {
	if s := l.s.Load(); s != nil {
		s.Submit(r)
	}
}

func (f *shadowFlags) setup(ctx context.Context, log *slog.Logger) (*shadowSetup, error) {
	if f.endpoint == "" {
		return nil, nil
	}
	if f.sample < 0 || f.sample > 1 {
		return nil, fmt.Errorf("--shadow-sample %v: want 0..1", f.sample)
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(f.region))
	if err != nil {
		return nil, fmt.Errorf("shadow credentials: %w", err)
	}
	caller := shadow.NewDynamoDB(f.endpoint, f.region, awsCfg.Credentials)
	late := &lateSink{}
	// Sampling follows each table's mode (baseMode, then dualread.yaml).
	s := &shadowSetup{sink: late, cfg: &adapter.ShadowConfig{Caller: caller, Sink: late,
		Limits: shadow.Config{RatePerSec: f.rate}}}
	keys := func(a *adapter.Adapter) func(string) []string {
		return func(table string) []string { return a.Executor.KeyNames(context.Background(), table) }
	}
	if f.audit != "embedded" {
		// A remote audit service: pairs go over its gRPC Ingest stream.
		conn, err := grpc.NewClient(f.audit, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return nil, fmt.Errorf("--audit %s: %w", f.audit, err)
		}
		client := audit.NewClient(auditpb.NewAuditClient(conn), audit.ClientConfig{Logger: log})
		s.start = func(a *adapter.Adapter) error {
			late.s.Store(&shadow.AuditSink{Submitter: client, Keys: keys(a)})
			s.metrics = func(w io.Writer) { audit.WriteClientPrometheus(w, client.Stats()) }
			return nil
		}
		s.close = func(context.Context) error { client.Close(); return conn.Close() }
		return s, nil
	}
	s.start = func(a *adapter.Adapter) error {
		var sinks []audit.Sink
		if f.influxURL != "" {
			sinks = append(sinks, sink.NewInflux(sink.InfluxConfig{URL: f.influxURL, Bucket: f.influxBucket, Interval: f.influxInterval, Logger: log}))
		}
		svc, err := audit.NewService(audit.Config{Logger: log, LagDelay: f.lagDelay,
			NoiseSample: f.noiseSample, NoiseMargin: f.noiseMargin,
			Rereader: shadow.Rereader{Store: shadow.ExecutorCaller{Exec: a.Executor}, StoreBackend: a.BackendFor, DynamoDB: caller}}, sinks...)
		if err != nil {
			return err
		}
		late.s.Store(&shadow.AuditSink{Submitter: svc, Keys: keys(a)})
		s.close = svc.Close
		s.metrics = func(w io.Writer) { audit.WritePrometheus(w, svc.Stats()) }
		return nil
	}
	return s, nil
}

// baseMode is every table's migration mode unless dualread.yaml says
// otherwise: served here, shadowed at --shadow-sample when a DynamoDB
// endpoint is given, writes applied.
func (f *shadowFlags) baseMode() modes.Mode {
	m := modes.Default
	if f.endpoint != "" {
		m.Shadow, m.Sample = "dynamodb", f.sample
	}
	return m
}

package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// ReadyLine is printed once the tables exist and the traffic starts; the
// local stack waits for it.
const ReadyLine = "demo: traffic running"

// Config says where the demo sends its traffic and how much.
type Config struct {
	Adapter  string // the adapter's endpoint URL (reads, injected writes)
	DynamoDB string // DynamoDB Local's endpoint URL (the source of writes)
	Region   string // default us-east-1
	// Rate is operations per second, all kinds together (default 10).
	Rate float64
	// Duration bounds the run (0: until ctx ends).
	Duration time.Duration
	// Seed makes the sequence of operations reproducible (keys differ per
	// run: order ids carry the start time, so a rerun adds orders).
	Seed uint64
	// ProgressEvery is how often a progress line is printed (default 10 s).
	ProgressEvery time.Duration
	// Out receives the ready line and progress lines (default io.Discard).
	Out    io.Writer
	Logger *slog.Logger
}

// Stats counts what the demo did.
type Stats struct {
	SourceWrites  int64 // puts, updates, deletes sent to DynamoDB Local
	AdapterReads  int64 // GetItem, Query, Scan, BatchGetItem through the adapter
	AdapterWrites int64 // writes sent to the adapter directly (divergences)
	LagProbes     int64 // write to DynamoDB Local, then read through the adapter at once
	Errors        int64
}

func (s *Stats) String() string {
	return fmt.Sprintf("%d writes to DynamoDB Local, %d reads through the adapter, %d direct adapter writes (divergence), %d lag probes, %d errors",
		atomic.LoadInt64(&s.SourceWrites), atomic.LoadInt64(&s.AdapterReads), atomic.LoadInt64(&s.AdapterWrites),
		atomic.LoadInt64(&s.LagProbes), atomic.LoadInt64(&s.Errors))
}

// Run creates the tables, seeds them, injects the divergences and then
// sends traffic at cfg.Rate until cfg.Duration passes or ctx ends. Only
// set-up failures are returned; failed operations are counted and logged.
func Run(ctx context.Context, cfg Config) (*Stats, error) {
	if cfg.Adapter == "" || cfg.DynamoDB == "" {
		return nil, errors.New("demo: needs the adapter and DynamoDB Local endpoints")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Rate <= 0 {
		cfg.Rate = 10
	}
	if cfg.ProgressEvery <= 0 {
		cfg.ProgressEvery = 10 * time.Second
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	g := &gen{
		cfg:     cfg,
		rng:     rand.New(rand.NewPCG(cfg.Seed, 0x64656d6f)),
		source:  client(cfg.DynamoDB, cfg.Region, Writer),
		admin:   client(cfg.Adapter, cfg.Region, Writer),
		check:   client(cfg.Adapter, cfg.Region, Checkout),
		catalog: client(cfg.Adapter, cfg.Region, Catalog),
		reports: client(cfg.Adapter, cfg.Region, Reports),
		legacy:  client(cfg.Adapter, cfg.Region, Legacy),
		run:     strconv.FormatInt(time.Now().Unix(), 36),
		orders:  map[string][]string{},
		stats:   &Stats{},
	}
	if err := g.setup(ctx); err != nil {
		return g.stats, err
	}
	fmt.Fprintf(cfg.Out, "%s on %s and %s: %.3g ops/s for %s (writes to DynamoDB Local, reads through the adapter)\n",
		ReadyLine, OrdersTable, CatalogTable, cfg.Rate, durationText(cfg.Duration))
	// The duration bounds the traffic, not the set-up (which waits for
	// tables on a possibly busy machine).
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	g.loop(ctx)
	fmt.Fprintf(cfg.Out, "demo: done: %s\n", g.stats)
	return g.stats, nil
}

func durationText(d time.Duration) string {
	if d <= 0 {
		return "ever"
	}
	return d.String()
}

// client is an SDK client signing as svc. Retries are few: a failing
// operation should show in the counts, not hide behind back-off.
func client(endpoint, region string, svc Service) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(svc.AccessKeyID, svc.Secret, ""),
		Retryer:      retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 2 }),
	})
}

// loop sends one operation per tick. Operations run one at a time, so a
// slow stand-in lowers the rate rather than piling requests up.
func (g *gen) loop(ctx context.Context) {
	tick := time.NewTicker(time.Duration(float64(time.Second) / g.cfg.Rate))
	defer tick.Stop()
	progress := time.NewTicker(g.cfg.ProgressEvery)
	defer progress.Stop()
	for n := 1; ; {
		select {
		case <-ctx.Done():
			return
		case <-progress.C:
			fmt.Fprintf(g.cfg.Out, "demo: %s\n", g.stats)
		case <-tick.C:
			g.step(ctx, n)
			n++
		}
	}
}

// Package sink holds the audit service's sinks: aggregated counts and
// latency percentiles in InfluxDB, diverging pairs on a Pub/Sub topic, and
// the Bigtable pair store behind `dualread audit show`.
package sink

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"github.com/influxdata/influxdb-client-go/v2/api"
	"github.com/influxdata/influxdb-client-go/v2/api/write"

	"github.com/dualread/dualread/audit"
	"github.com/dualread/dualread/audit/diff"
)

// Measurement names (see audit/README.md for the schema).
const (
	MeasurementAudit   = "dualread_audit"
	MeasurementLatency = "dualread_latency"
)

// InfluxConfig says where and how often to write.
type InfluxConfig struct {
	URL   string
	Token string // "user:password" for InfluxDB 1.x auth, "" for none
	Org   string // "" for InfluxDB 1.x
	// Bucket is "db/retention-policy" for InfluxDB 1.x, e.g. "dualread/autogen".
	Bucket string
	// Interval is the aggregation window (default 10 s): one point per
	// (table, op, class) and per (table, op, side) per window.
	Interval time.Duration
	Logger   *slog.Logger
}

// reservoirSize bounds latency samples kept per series per interval; above
// it percentiles are estimated from a uniform sample (count and max stay
// exact), so memory does not grow with traffic.
const reservoirSize = 2048

type countKey struct {
	table, op string
	class     diff.Class
}

type latKey struct{ table, op, side string }

type latAgg struct {
	count   int64
	max     time.Duration
	samples []time.Duration
}

func (a *latAgg) add(d time.Duration, rng *rand.Rand) {
	a.count++
	a.max = max(a.max, d)
	if len(a.samples) < reservoirSize {
		a.samples = append(a.samples, d)
		return
	}
	// Algorithm R: each of the count values ends up kept with equal chance.
	if j := rng.Int64N(a.count); j < reservoirSize {
		a.samples[j] = d
	}
}

// Influx aggregates pairs per interval and writes the totals; it never
// writes one point per record, and never puts diff paths in tags (they
// would make series cardinality unbounded).
type Influx struct {
	cfg    InfluxConfig
	client influxdb2.Client
	write  api.WriteAPIBlocking
	log    *slog.Logger

	mu     sync.Mutex
	counts map[countKey]int64
	lat    map[latKey]*latAgg
	rng    *rand.Rand

	stop chan struct{}
	done chan struct{}
	// WriteErrors counts intervals whose points could not be written (they
	// are dropped: InfluxDB being down must not grow memory); lostPairs the
	// pairs counted in them.
	writeErrors, lostPairs int64
}

// NewInflux starts the flush loop.
func NewInflux(cfg InfluxConfig) *Influx {
	if cfg.Interval <= 0 {
		cfg.Interval = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c := influxdb2.NewClient(cfg.URL, cfg.Token)
	i := &Influx{
		cfg: cfg, client: c, write: c.WriteAPIBlocking(cfg.Org, cfg.Bucket), log: cfg.Logger,
		counts: map[countKey]int64{}, lat: map[latKey]*latAgg{},
		rng:  rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	go i.loop()
	return i
}

func (i *Influx) Name() string { return "influxdb" }

// Write only aggregates; the flush loop writes.
func (i *Influx) Write(_ context.Context, pairs []audit.Pair) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	for _, p := range pairs {
		t, op := p.Record.GetTable(), p.Record.GetOperation()
		i.counts[countKey{t, op, p.Class}]++
		i.addLatency(latKey{t, op, "primary"}, p.Record.GetPrimary().GetLatency().AsDuration())
		i.addLatency(latKey{t, op, "shadow"}, p.Record.GetShadow().GetLatency().AsDuration())
	}
	return nil
}

func (i *Influx) addLatency(k latKey, d time.Duration) {
	a := i.lat[k]
	if a == nil {
		a = &latAgg{}
		i.lat[k] = a
	}
	a.add(d, i.rng)
}

func (i *Influx) loop() {
	defer close(i.done)
	t := time.NewTicker(i.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), i.cfg.Interval)
			i.flush(ctx)
			cancel()
		case <-i.stop:
			return
		}
	}
}

// Flush writes the current interval now (Close calls it; tests may too).
func (i *Influx) Flush(ctx context.Context) error { return i.flush(ctx) }

func (i *Influx) flush(ctx context.Context) error {
	i.mu.Lock()
	counts, lat := i.counts, i.lat
	i.counts, i.lat = map[countKey]int64{}, map[latKey]*latAgg{}
	i.mu.Unlock()
	if len(counts) == 0 && len(lat) == 0 {
		return nil
	}
	now := time.Now()
	points := make([]*write.Point, 0, len(counts)+len(lat))
	var pairs int64
	for k, n := range counts {
		pairs += n
		points = append(points, influxdb2.NewPoint(MeasurementAudit,
			map[string]string{"table": k.table, "op": k.op, "class": string(k.class)},
			map[string]any{"count": n}, now))
	}
	for k, a := range lat {
		slices.Sort(a.samples)
		points = append(points, influxdb2.NewPoint(MeasurementLatency,
			map[string]string{"table": k.table, "op": k.op, "side": k.side},
			map[string]any{
				"p50_ms": ms(quantile(a.samples, 0.50)), "p99_ms": ms(quantile(a.samples, 0.99)),
				"max_ms": ms(a.max), "count": a.count,
			}, now))
	}
	if err := i.write.WritePoint(ctx, points...); err != nil {
		i.mu.Lock()
		i.writeErrors++
		i.lostPairs += pairs
		i.mu.Unlock()
		i.log.Warn("audit: InfluxDB write failed; interval dropped", "points", len(points), "err", err)
		return err
	}
	return nil
}

// WriteErrors is how many intervals were lost to failed writes.
func (i *Influx) WriteErrors() int64 {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.writeErrors
}

// Losses implements audit.LossCounter: the audit service adds them to this
// sink's SinkStats (Errors, Dropped), which its metrics export.
func (i *Influx) Losses() (failedWrites, lostPairs int64) {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.writeErrors, i.lostPairs
}

// Close writes the last partial interval and closes the client.
func (i *Influx) Close(ctx context.Context) error {
	close(i.stop)
	<-i.done
	err := i.flush(ctx)
	i.client.Close()
	return err
}

// quantile is the nearest-rank quantile of sorted samples.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	idx := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(idx, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

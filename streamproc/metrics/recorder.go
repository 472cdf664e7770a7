// Package metrics keeps the stream processor's and backfill's numbers:
// replication lag per table (now − ApproximateCreationDateTime of each
// applied record, summarised per interval as p50/p99/max), outcome counts
// (applied, stale, duplicate, dead-lettered) and MillisBehindLatest per
// shard. A Recorder is written by the appliers and read by two exporters:
// InfluxDB points per interval (Flush + InfluxSink) and a Prometheus text
// /metrics handler (cumulative counters, last interval's lag gauges).
package metrics

import (
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"time"
)

// Outcome names, as they appear in field and label names.
const (
	OutcomeApplied      = "applied"
	OutcomeStale        = "stale"
	OutcomeDuplicate    = "duplicate"
	OutcomeDeadLettered = "dead_lettered"
)

var outcomes = []string{OutcomeApplied, OutcomeStale, OutcomeDuplicate, OutcomeDeadLettered}

// maxSamples bounds the lag samples kept per table and interval (reservoir
// sampling beyond it), so memory does not grow with the record rate. The
// max is tracked exactly.
const maxSamples = 4096

type tableKey struct{ table, source string }
type shardKey struct{ stream, shard string }

type tableStats struct {
	// this interval
	samples []float64 // lag in ms
	seen    int       // samples offered this interval (for the reservoir)
	maxLag  float64
	counts  map[string]int64
	// cumulative, for /metrics
	totals map[string]int64
	// last flushed interval's quantiles, for /metrics gauges
	lastP50, lastP99, lastMax float64
}

// Recorder accumulates metrics; safe for concurrent use.
type Recorder struct {
	now    func() time.Time
	mu     sync.Mutex
	tables map[tableKey]*tableStats
	shards map[shardKey]int64
	rnd    *rand.Rand
}

// New returns a Recorder; now is the clock (nil: time.Now).
func New(now func() time.Time) *Recorder {
	if now == nil {
		now = time.Now
	}
	return &Recorder{now: now, tables: map[tableKey]*tableStats{}, shards: map[shardKey]int64{},
		rnd: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
}

func (r *Recorder) stats(table, source string) *tableStats {
	k := tableKey{table, source}
	s := r.tables[k]
	if s == nil {
		s = &tableStats{counts: map[string]int64{}, totals: map[string]int64{}}
		r.tables[k] = s
	}
	return s
}

// Record counts one record's outcome for table from source ("kinesis",
// "backfill", ...). For applied records, versionMicros (the change's
// ApproximateCreationDateTime) gives the lag sample; stale and duplicate
// records are counted only, as they say nothing about how far behind the
// target is.
func (r *Recorder) Record(table, source, outcome string, versionMicros uint64) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stats(table, source)
	s.counts[outcome]++
	s.totals[outcome]++
	if outcome != OutcomeApplied || versionMicros == 0 {
		return
	}
	lag := float64(r.now().UnixMicro()-int64(versionMicros)) / 1000
	if lag < 0 {
		lag = 0 // clock skew between DynamoDB and us: report "caught up", not negative lag
	}
	s.maxLag = max(s.maxLag, lag)
	s.seen++
	if len(s.samples) < maxSamples {
		s.samples = append(s.samples, lag)
	} else if j := r.rnd.IntN(s.seen); j < maxSamples {
		s.samples[j] = lag
	}
}

// ShardBehind sets a shard's MillisBehindLatest (last GetRecords answer).
func (r *Recorder) ShardBehind(stream, shard string, ms int64) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.shards[shardKey{stream, shard}] = ms
	r.mu.Unlock()
}

// ShardDone forgets a shard that reached SHARD_END or was handed to another
// instance, so it stops being reported.
func (r *Recorder) ShardDone(stream, shard string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	delete(r.shards, shardKey{stream, shard})
	r.mu.Unlock()
}

// Point is one InfluxDB point.
type Point struct {
	Measurement string
	Tags        map[string]string
	Fields      map[string]any
	Time        time.Time
}

// Measurement names (see /work/shared/DESIGN.md's InfluxDB schema).
const (
	MeasurementReplication = "dualread_replication"
	MeasurementShard       = "dualread_shard"
)

// Flush ends the interval: it returns one dualread_replication point per
// (table, source) that saw records, and one dualread_shard point per shard,
// all stamped now, and starts a new interval. Counts are per interval (so
// identical timestamps never overwrite a running total); lag fields are
// present only when records were applied in the interval.
func (r *Recorder) Flush() []Point {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	var pts []Point
	for k, s := range r.tables {
		total := int64(0)
		for _, n := range s.counts {
			total += n
		}
		if total == 0 {
			continue
		}
		f := map[string]any{}
		for _, o := range outcomes {
			f[o] = s.counts[o]
		}
		if len(s.samples) > 0 {
			slices.Sort(s.samples)
			s.lastP50 = quantile(s.samples, 0.50)
			s.lastP99 = quantile(s.samples, 0.99)
			s.lastMax = s.maxLag
			f["lag_p50_ms"], f["lag_p99_ms"], f["lag_max_ms"] = s.lastP50, s.lastP99, s.lastMax
		}
		pts = append(pts, Point{MeasurementReplication, map[string]string{"table": k.table, "source": k.source}, f, now})
		s.samples, s.seen, s.maxLag = s.samples[:0], 0, 0
		clear(s.counts)
	}
	for k, ms := range r.shards {
		pts = append(pts, Point{MeasurementShard, map[string]string{"stream": k.stream, "shard": k.shard},
			map[string]any{"millis_behind_latest": ms}, now})
	}
	sort.Slice(pts, func(i, j int) bool { return pointKey(pts[i]) < pointKey(pts[j]) })
	return pts
}

func pointKey(p Point) string {
	return p.Measurement + "\x00" + p.Tags["table"] + p.Tags["stream"] + "\x00" + p.Tags["source"] + p.Tags["shard"]
}

// quantile of sorted samples, nearest-rank.
func quantile(sorted []float64, q float64) float64 {
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

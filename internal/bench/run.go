package bench

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Why a run's measured phase ended.
const (
	StoppedDuration = "duration" // Config.Duration elapsed
	StoppedMaxOps   = "max-ops"  // Config.MaxOps requests were issued
	StoppedContext  = "context"  // the caller cancelled
)

// Result is what one run measured.
type Result struct {
	Target      string // name given by Compare; "" for a bare Run
	Endpoint    string
	Concurrency int
	Duration    time.Duration // configured measured phase
	Warmup      time.Duration
	Mix         string // in ParseMix form
	ItemSize    int
	Keys        int
	MaxOps      int64
	Started     time.Time
	Elapsed     time.Duration // measured wall time, until the last worker stopped
	WarmupOps   int64         // requests issued during warmup (not in PerOp)
	StoppedBy   string        // StoppedDuration, StoppedMaxOps or StoppedContext
	PerOp       map[string]OpStats
	Total       OpStats
	GOMAXPROCS  int
	NumCPU      int
	GoVersion   string
	Rounds      int // rounds merged into this result (Compare); 1 for Run

	// recs are the merged recorders behind PerOp, kept so that Compare can
	// merge the rounds of one target exactly (percentiles do not average).
	recs map[string]*opRecorder
	// createdTable says this run created cfg.Table (so it may delete it).
	createdTable bool
}

// worker is one load generator's private state: nothing in it is shared,
// so recording a request takes no lock.
type worker struct {
	wl  *workload
	rec map[string]*opRecorder
	// warm counts requests started before the measured phase.
	warm int64
	// lastEnd is when this worker's last measured request finished.
	lastEnd time.Time
}

// Run creates and preloads the table, drives cfg.Concurrency workers for
// cfg.Warmup then cfg.Duration (or until cfg.MaxOps requests or ctx ends),
// deletes the table if it created it, and returns what it measured. A
// cancelled ctx during the load phase still returns the partial Result,
// with StoppedBy = StoppedContext.
func Run(ctx context.Context, cfg Config, log *slog.Logger) (_ *Result, runErr error) {
	if log == nil {
		log = slog.Default()
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if b := cfg.adapterBackend; b != "" && b != BackendEmbedded {
		// Only CompareTargets opens an adapter on an emulator; a plain run
		// would silently measure the embedded backend instead.
		return nil, fmt.Errorf("bench: --backend %s is for bench compare (which starts the emulator); for a single run use --endpoint", b)
	}
	client, tr := newClient(cfg)
	defer tr.CloseIdleConnections()

	created, err := ensureTable(ctx, client, cfg, log)
	if created && !cfg.Keep {
		defer func() {
			// Between the rounds of a comparison the table stays, unless
			// this run failed: its target then gets no further round.
			if cfg.keepForRounds && runErr == nil {
				return
			}
			if derr := deleteTable(ctx, client, cfg.Table); derr != nil {
				log.Warn("bench: table left behind", "table", cfg.Table, "err", derr)
			}
		}()
	}
	if err != nil {
		return nil, err
	}
	if !cfg.SkipPreload {
		t0 := time.Now()
		if err := preload(ctx, client, cfg); err != nil {
			return nil, err
		}
		log.Info("bench: preloaded", "table", cfg.Table, "items", cfg.Keys, "took", time.Since(t0).Round(time.Millisecond))
	}

	return load(ctx, cfg, log, created, func(i int) *workload { return newWorkload(client, cfg, i) })
}

// load drives cfg.Concurrency workers made by newWL through the warmup and
// measured phases and summarises what they recorded. The table is ready:
// created (created says whether by this run) and preloaded.
func load(ctx context.Context, cfg Config, log *slog.Logger, created bool, newWL func(worker int) *workload) (*Result, error) {
	res := &Result{
		Endpoint: cfg.Endpoint, Concurrency: cfg.Concurrency, Duration: cfg.Duration, Warmup: cfg.Warmup,
		Mix: FormatMix(cfg.Mix), ItemSize: cfg.ItemSize, Keys: cfg.Keys, MaxOps: cfg.MaxOps,
		GOMAXPROCS: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU(), GoVersion: runtime.Version(),
		createdTable: created, Rounds: 1,
	}
	workers := make([]*worker, cfg.Concurrency)
	for i := range workers {
		workers[i] = &worker{wl: newWL(i), rec: map[string]*opRecorder{}}
		for _, op := range workers[i].wl.ops {
			workers[i].rec[op] = &opRecorder{}
		}
	}

	res.Started = time.Now()
	measureStart := res.Started.Add(cfg.Warmup)
	end := measureStart.Add(cfg.Duration)
	var budget atomic.Int64
	budget.Store(cfg.MaxOps)
	var wg sync.WaitGroup
	log.Info("bench: load", "endpoint", cfg.Endpoint, "concurrency", cfg.Concurrency,
		"warmup", cfg.Warmup, "duration", cfg.Duration, "mix", res.Mix)
	for _, w := range workers {
		wg.Go(func() { w.loop(ctx, cfg.RequestTimeout, measureStart, end, &budget) })
	}
	wg.Wait()

	last := measureStart
	res.recs = map[string]*opRecorder{}
	for _, w := range workers {
		res.WarmupOps += w.warm
		if w.lastEnd.After(last) {
			last = w.lastEnd
		}
		res.addRecs(w.rec)
	}
	res.Elapsed = last.Sub(measureStart)
	res.summarise()
	switch {
	case ctx.Err() != nil:
		res.StoppedBy = StoppedContext
	case budget.Load() <= 0:
		res.StoppedBy = StoppedMaxOps
	default:
		res.StoppedBy = StoppedDuration
	}
	log.Info("bench: done", "endpoint", cfg.Endpoint, "requests", res.Total.Requests,
		"errors", res.Total.Errors, "req/s", int(res.Total.ReqPerSec), "stopped_by", res.StoppedBy)
	return res, nil
}

// loop issues requests until the deadline, the shared request budget or ctx
// runs out. Requests started before measureStart are warmup: counted in
// warm, not recorded.
func (w *worker) loop(ctx context.Context, timeout time.Duration, measureStart, end time.Time, budget *atomic.Int64) {
	for ctx.Err() == nil {
		start := time.Now()
		if !start.Before(end) || budget.Add(-1) < 0 {
			return
		}
		op := w.wl.pick()
		rctx, cancel := context.WithTimeout(ctx, timeout)
		err := w.wl.do(rctx, op)
		cancel()
		done := time.Now()
		if err != nil && ctx.Err() != nil {
			// Cut short by the caller's cancellation or deadline, not a
			// server failure: not counted.
			return
		}
		if start.Before(measureStart) {
			w.warm++
			continue
		}
		w.rec[op].record(done.Sub(start), err)
		w.lastEnd = done
	}
}

// addRecs merges per-operation recorders into r's.
func (r *Result) addRecs(recs map[string]*opRecorder) {
	for op, rec := range recs {
		if r.recs[op] == nil {
			r.recs[op] = &opRecorder{}
		}
		r.recs[op].merge(rec)
	}
}

// summarise computes PerOp and Total from the recorders and Elapsed.
func (r *Result) summarise() {
	r.PerOp = map[string]OpStats{}
	total := &opRecorder{}
	for op, rec := range r.recs {
		r.PerOp[op] = rec.stats(r.Elapsed)
		total.merge(rec)
	}
	r.Total = total.stats(r.Elapsed)
}

// mergeRound adds a later round of the same target to r: counts and
// histograms add up, and rates are over the summed measured time.
func (r *Result) mergeRound(o *Result) {
	r.Rounds += o.Rounds
	r.Elapsed += o.Elapsed
	r.WarmupOps += o.WarmupOps
	r.StoppedBy = o.StoppedBy
	r.addRecs(o.recs)
	r.summarise()
}

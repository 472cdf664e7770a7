// Package shadow re-sends the adapter's reads to the other side,
// asynchronously, so the audit can compare both answers: to DynamoDB when
// the new store served (shadow: dynamodb), or to the store when DynamoDB
// served (serve: dynamodb, shadow: spanner|bigtable). The served response is
// already written when a read is offered here: Offer never blocks and never
// fails the request. Reads are sampled per table, queued in a bounded queue
// (full: dropped and counted), sent by a worker pool under a timeout, a
// token-bucket rate limit (shadow reads spend DynamoDB read capacity) and a
// circuit breaker per side, and the pair goes to a Sink (the audit service).
package shadow

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Ops are the operations shadowed: reads only.
var Ops = map[string]bool{"GetItem": true, "BatchGetItem": true, "Query": true, "Scan": true, "TransactGetItems": true}

// Side is one answer to a request.
type Side struct {
	Backend string
	Status  int
	Body    []byte
	Latency time.Duration
	// Err is set when no answer arrived (timeout, connection refused).
	Err string
}

// Record is a request with the served (primary) answer and the shadow's.
type Record struct {
	ID      string
	Time    time.Time
	Caller  string
	Table   string
	Op      string
	Request []byte
	Primary Side
	Shadow  Side
	// Target is where the shadow read goes: TargetDynamoDB ("" too) or
	// TargetStore. Shadow.Backend, if set before Offer, names the shadow
	// side in the record (default "dynamodb").
	Target string
}

// Shadow read targets.
const (
	TargetDynamoDB = "dynamodb"
	TargetStore    = "store"
)

// Sink receives completed pairs (the audit service, in process or remote).
type Sink interface {
	Submit(Record)
}

// Caller sends one request to one side (DynamoDB, or the adapter's store).
type Caller interface {
	Call(ctx context.Context, op string, body []byte) (status int, resp []byte, err error)
}

// Config bounds the shadow traffic.
type Config struct {
	QueueSize   int           // pending reads; beyond it reads are dropped (default 1024)
	Workers     int           // concurrent shadow requests (default 8)
	Timeout     time.Duration // per shadow request (default 2s)
	RatePerSec  float64       // shadow requests per second (default 100; 0 keeps the default, <0 unlimited)
	Burst       int           // token bucket size (default 20)
	BreakerOpen int           // consecutive failures that open the breaker (default 10)
	Cooldown    time.Duration // how long an open breaker sheds load (default 5s)
	// Sample returns the fraction (0..1) of reads of table to shadow.
	Sample func(table string) float64
	// Store answers shadow reads whose Target is TargetStore (the adapter's
	// own executor, bypassing the migration modes); without it they fail.
	Store Caller
}

// Stats are the shadow reader's counters since start, over both targets.
type Stats struct {
	Offered, Sampled, Dropped, Sent, Failed, ShedByBreaker, RateLimited int64
	// BreakerOpen: DynamoDB's breaker; StoreBreakerOpen: the store's.
	BreakerOpen, StoreBreakerOpen bool
}

// target is one side shadow reads go to, with its own rate limit and
// breaker: DynamoDB failing must not shed the store's shadow reads.
type target struct {
	caller      Caller
	limiter     *rate.Limiter
	consecutive atomic.Int64
	openUntil   atomic.Int64 // unix nanos
}

func (t *target) open() bool { return time.Now().UnixNano() < t.openUntil.Load() }

// Shadower runs the shadow traffic.
type Shadower struct {
	cfg     Config
	targets map[string]*target
	sink    Sink
	log     *slog.Logger
	queue   chan Record
	stop    context.CancelFunc
	wg      sync.WaitGroup

	offered, sampled, dropped, sent, failed, shed, limited atomic.Int64
}

// New starts the workers; Close stops them.
func New(cfg Config, caller Caller, sink Sink, log *slog.Logger) *Shadower {
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 1024
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.RatePerSec == 0 {
		cfg.RatePerSec = 100
	}
	if cfg.Burst <= 0 {
		cfg.Burst = 20
	}
	if cfg.BreakerOpen <= 0 {
		cfg.BreakerOpen = 10
	}
	if cfg.Cooldown <= 0 {
		cfg.Cooldown = 5 * time.Second
	}
	if cfg.Sample == nil {
		cfg.Sample = func(string) float64 { return 1 }
	}
	if log == nil {
		log = slog.Default()
	}
	limit := rate.Limit(cfg.RatePerSec)
	if cfg.RatePerSec < 0 {
		limit = rate.Inf
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Shadower{cfg: cfg, sink: sink, log: log, queue: make(chan Record, cfg.QueueSize), stop: cancel,
		targets: map[string]*target{
			TargetDynamoDB: {caller: caller, limiter: rate.NewLimiter(limit, cfg.Burst)},
			TargetStore:    {caller: cfg.Store, limiter: rate.NewLimiter(limit, cfg.Burst)},
		}}
	for range cfg.Workers {
		s.wg.Add(1)
		go s.work(ctx)
	}
	return s
}

// Offer queues a served read for shadowing, if its table is sampled. It
// never blocks: with the queue full the read is dropped and counted.
func (s *Shadower) Offer(rec Record) {
	if !Ops[rec.Op] {
		return
	}
	s.offered.Add(1)
	if p := s.cfg.Sample(rec.Table); p <= 0 || p < 1 && rand.Float64() >= p {
		return
	}
	s.sampled.Add(1)
	select {
	case s.queue <- rec:
	default:
		s.dropped.Add(1)
	}
}

func (s *Shadower) work(ctx context.Context) {
	defer s.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case rec := <-s.queue:
			s.shadow(ctx, rec)
		}
	}
}

func (s *Shadower) shadow(ctx context.Context, rec Record) {
	name := rec.Target
	if name == "" {
		name = TargetDynamoDB
	}
	tg := s.targets[name]
	if tg == nil || tg.caller == nil {
		s.failed.Add(1)
		s.log.Warn("shadow read has no target", "target", rec.Target, "table", rec.Table)
		return
	}
	if tg.open() {
		s.shed.Add(1)
		return
	}
	if !tg.limiter.Allow() {
		// Over budget: drop rather than queue, so DynamoDB read capacity spent
		// by shadowing stays bounded and memory does too.
		s.limited.Add(1)
		return
	}
	cctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	start := time.Now()
	status, body, err := tg.caller.Call(cctx, rec.Op, rec.Request)
	backend := rec.Shadow.Backend
	if backend == "" {
		backend = "dynamodb"
	}
	rec.Shadow = Side{Backend: backend, Status: status, Body: body, Latency: time.Since(start)}
	if err != nil || status >= 500 {
		if err != nil {
			rec.Shadow.Err = err.Error()
		}
		s.failed.Add(1)
		if tg.consecutive.Add(1) >= int64(s.cfg.BreakerOpen) {
			tg.openUntil.Store(time.Now().Add(s.cfg.Cooldown).UnixNano())
			tg.consecutive.Store(0)
			s.log.Warn("shadow breaker open", "target", name, "cooldown", s.cfg.Cooldown, "last_error", rec.Shadow.Err)
		}
	} else {
		tg.consecutive.Store(0)
		s.sent.Add(1)
	}
	s.sink.Submit(rec)
}

// Stats returns the counters.
func (s *Shadower) Stats() Stats {
	return Stats{
		Offered: s.offered.Load(), Sampled: s.sampled.Load(), Dropped: s.dropped.Load(), Sent: s.sent.Load(),
		Failed: s.failed.Load(), ShedByBreaker: s.shed.Load(), RateLimited: s.limited.Load(),
		BreakerOpen: s.targets[TargetDynamoDB].open(), StoreBreakerOpen: s.targets[TargetStore].open(),
	}
}

// Close stops the workers; queued reads not yet sent are abandoned.
func (s *Shadower) Close() {
	s.stop()
	s.wg.Wait()
}

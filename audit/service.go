package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/dualread/dualread/audit/diff"
	"github.com/dualread/dualread/proto/auditpb"
)

// Config sizes the service. Zero values take the defaults noted.
type Config struct {
	// QueueSize bounds records accepted but not yet diffed (default 10000);
	// Submit drops and counts beyond it rather than block the adapter.
	QueueSize int
	// Workers diff records in parallel (default GOMAXPROCS).
	Workers int
	// Diff holds ignore rules; Validate is called by NewService.
	Diff diff.Options
	// Rereader, when set, re-reads diverging pairs after LagDelay (default
	// 2 s); a pair whose re-read matches is classified lag. Error
	// mismatches are not re-read: a failed side is not replication lag.
	Rereader      Rereader
	LagDelay      time.Duration
	RereadQueue   int           // pending re-reads (default 10000); beyond it the first verdict stands, counted
	RereadTimeout time.Duration // per re-read (default 5 s)
	// SinkQueue bounds each sink's backlog (default 10000); SinkBatch is
	// the most pairs per Write (default 500), SinkFlush the longest a pair
	// waits for a batch to fill (default 200 ms).
	SinkQueue int
	SinkBatch int
	SinkFlush time.Duration
	Logger    *slog.Logger
}

func (c *Config) setDefaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defd := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.QueueSize, 10000)
	def(&c.Workers, runtime.GOMAXPROCS(0))
	def(&c.RereadQueue, 10000)
	def(&c.SinkQueue, 10000)
	def(&c.SinkBatch, 500)
	defd(&c.LagDelay, 2*time.Second)
	defd(&c.RereadTimeout, 5*time.Second)
	defd(&c.SinkFlush, 200*time.Millisecond)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Errors Submit returns; all mean the record was counted and not diffed.
var (
	ErrDropped = errors.New("audit: queue full, record dropped")
	ErrInvalid = errors.New("audit: record lacks table, operation or a response")
	ErrClosed  = errors.New("audit: service closed")
)

// Submitter is what the adapter needs to hand records over, satisfied by
// *Service (`--audit embedded`) and by a gRPC client wrapper. Submit must
// never block.
type Submitter interface {
	Submit(rec *auditpb.Record) error
}

// Service diffs and classifies records and feeds sinks.
type Service struct {
	cfg   Config
	log   *slog.Logger
	sinks []*sinkRunner

	mu     sync.RWMutex // guards closed against the close of queue
	closed bool
	queue  chan *auditpb.Record
	reread chan pending

	workers, rereaders sync.WaitGroup
	// stop cancels re-read waits and calls when Close's context ends.
	stopCtx context.Context
	stop    context.CancelFunc

	accepted, dropped, invalid, failed atomic.Int64
	rereadDropped, rereads             atomic.Int64
	classes                            map[diff.Class]*atomic.Int64
}

type pending struct {
	due  time.Time
	pair Pair
}

// NewService starts the workers and one goroutine per sink.
func NewService(cfg Config, sinks ...Sink) (*Service, error) {
	cfg.setDefaults()
	if err := cfg.Diff.Validate(); err != nil {
		return nil, err
	}
	s := &Service{
		cfg:     cfg,
		log:     cfg.Logger,
		queue:   make(chan *auditpb.Record, cfg.QueueSize),
		reread:  make(chan pending, cfg.RereadQueue),
		classes: map[diff.Class]*atomic.Int64{},
	}
	s.stopCtx, s.stop = context.WithCancel(context.Background())
	for _, c := range diff.Classes {
		s.classes[c] = new(atomic.Int64)
	}
	for _, sk := range sinks {
		s.sinks = append(s.sinks, startSink(sk, cfg, s.log))
	}
	for range cfg.Workers {
		s.workers.Add(1)
		go s.work()
		s.rereaders.Add(1)
		go s.rereadLoop()
	}
	return s, nil
}

// Submit queues a record without blocking. The record must not be changed
// afterwards.
func (s *Service) Submit(rec *auditpb.Record) error {
	if rec.GetTable() == "" || rec.GetOperation() == "" || rec.GetPrimary() == nil || rec.GetShadow() == nil {
		s.invalid.Add(1)
		return ErrInvalid
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		s.dropped.Add(1)
		return ErrClosed
	}
	select {
	case s.queue <- rec:
		s.accepted.Add(1)
		return nil
	default:
		s.dropped.Add(1)
		return ErrDropped
	}
}

func (s *Service) work() {
	defer s.workers.Done()
	for rec := range s.queue {
		res, err := diff.Compare(rec, &s.cfg.Diff)
		if err != nil {
			// jsondiff only fails on non-JSON types, which Normalize never
			// produces; count it rather than lose it silently.
			s.failed.Add(1)
			s.log.Error("audit: diff failed", "id", rec.GetId(), "err", err)
			continue
		}
		p := Pair{Record: rec, Class: res.Class, Initial: res.Class, Patch: res.Patch}
		if s.cfg.Rereader != nil && p.Class.Diverges() && p.Class != diff.ErrorMismatch {
			select {
			case s.reread <- pending{due: time.Now().Add(s.cfg.LagDelay), pair: p}:
				continue
			default:
				s.rereadDropped.Add(1)
			}
		}
		s.emit(p)
	}
}

// rereadLoop takes pairs in the order they were queued; with one delay for
// all, that is due order, so waiting for the head is enough.
func (s *Service) rereadLoop() {
	defer s.rereaders.Done()
	for pd := range s.reread {
		if d := time.Until(pd.due); d > 0 {
			select {
			case <-time.After(d):
			case <-s.stopCtx.Done():
			}
		}
		s.emit(s.recheck(pd.pair))
	}
}

// recheck re-reads both sides; the class becomes lag if they now agree.
// Once shutdown has run out of time (stopCtx done), the first verdict stands.
func (s *Service) recheck(p Pair) Pair {
	if s.stopCtx.Err() != nil {
		return p
	}
	ctx, cancel := context.WithTimeout(s.stopCtx, s.cfg.RereadTimeout)
	defer cancel()
	s.rereads.Add(1)
	pr, sh, err := s.cfg.Rereader.Reread(ctx, p.Record)
	if err != nil {
		s.log.Warn("audit: re-read failed; first verdict stands", "id", p.Record.GetId(), "err", err)
		return p
	}
	again := proto.Clone(p.Record).(*auditpb.Record)
	again.Primary, again.Shadow = pr, sh
	p.Reread = again
	res, err := diff.Compare(again, &s.cfg.Diff)
	if err == nil && res.Class == diff.Match {
		p.Class = diff.Lag
	}
	return p
}

func (s *Service) emit(p Pair) {
	s.classes[p.Class].Add(1)
	for _, sk := range s.sinks {
		sk.offer(p)
	}
}

// Close stops taking records and drains: queued records are diffed, pending
// re-reads wait out their delay, sinks get everything and are closed. When
// ctx ends first, re-reads are skipped (first verdicts stand) and sinks
// are closed with what they have.
func (s *Service) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.closed = true
	close(s.queue)
	s.mu.Unlock()

	done := make(chan struct{})
	go func() {
		s.workers.Wait()
		close(s.reread)
		s.rereaders.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.stop()
		<-done
	}
	defer s.stop()
	var errs []error
	for _, sk := range s.sinks {
		if err := sk.close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("sink %s: %w", sk.sink.Name(), err))
		}
	}
	return errors.Join(errs...)
}

// Stats is a snapshot of the service's counters.
type Stats struct {
	Accepted, Dropped, Invalid, Failed int64
	Rereads, RereadDropped             int64
	Classes                            map[diff.Class]int64
	Sinks                              map[string]SinkStats
}

// SinkStats counts one sink's losses.
type SinkStats struct{ Written, Dropped, Errors int64 }

// Stats returns the current counters (for /metrics and tests).
func (s *Service) Stats() Stats {
	st := Stats{
		Accepted: s.accepted.Load(), Dropped: s.dropped.Load(), Invalid: s.invalid.Load(), Failed: s.failed.Load(),
		Rereads: s.rereads.Load(), RereadDropped: s.rereadDropped.Load(),
		Classes: map[diff.Class]int64{}, Sinks: map[string]SinkStats{},
	}
	for c, n := range s.classes {
		st.Classes[c] = n.Load()
	}
	for _, sk := range s.sinks {
		st.Sinks[sk.sink.Name()] = SinkStats{Written: sk.written.Load(), Dropped: sk.dropped.Load(), Errors: sk.errors.Load()}
	}
	return st
}

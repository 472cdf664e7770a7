package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wI2L/jsondiff"
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
	// NoiseSample is the fraction (0..1) of compared pairs with a DynamoDB
	// side for which DynamoDB is read twice more to calibrate its noise
	// (default 0: off). Those reads spend DynamoDB read capacity.
	NoiseSample float64
	// NoiseMargin: a path is noise when its mismatch rate is at most its
	// noise rate times NoiseMargin (default 1.25, room for the sampling error
	// of two rates estimated from finite counts).
	NoiseMargin float64
	// NoiseMinReads is how many calibrations a table needs before any of
	// its paths counts as noise (default 20).
	NoiseMinReads int
	// NoiseGap is the wait between the two calibration reads (default 0:
	// back to back). Set it near the usual delay between a served read and
	// its shadow read, so that the noise rate and the mismatch rate are
	// measured over comparable windows.
	NoiseGap time.Duration
	// NoiseQueue bounds records waiting for calibration (default 1000);
	// beyond it the calibration is skipped, counted.
	NoiseQueue int
	// NoiseReader reads DynamoDB for calibrations; default: Rereader, if it
	// is a NoiseReader.
	NoiseReader NoiseReader
	Logger      *slog.Logger
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
	def(&c.NoiseMinReads, 20)
	def(&c.NoiseQueue, 1000)
	if c.NoiseMargin <= 0 {
		c.NoiseMargin = 1.25
	}
	if c.NoiseReader == nil {
		c.NoiseReader, _ = c.Rereader.(NoiseReader)
	}
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
	calib  chan *auditpb.Record // nil without noise calibration
	noise  *noiseStats

	workers, rereaders, calibrators sync.WaitGroup
	// stop cancels re-read waits and calls when Close's context ends.
	stopCtx context.Context
	stop    context.CancelFunc

	accepted, dropped, invalid, failed atomic.Int64
	rereadDropped, rereads             atomic.Int64
	calibrations, calibDropped         atomic.Int64
	calibFailed                        atomic.Int64
	classes                            map[diff.Class]*atomic.Int64
}

// calibrators is how many goroutines read DynamoDB for noise calibration.
const calibrators = 2

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
	if cfg.NoiseSample < 0 || cfg.NoiseSample > 1 {
		return nil, fmt.Errorf("audit: noise sample %v is not within 0..1", cfg.NoiseSample)
	}
	if cfg.NoiseSample > 0 && cfg.NoiseReader == nil {
		return nil, errors.New("audit: noise calibration needs a NoiseReader (a Rereader that can read DynamoDB)")
	}
	s := &Service{
		cfg:     cfg,
		log:     cfg.Logger,
		queue:   make(chan *auditpb.Record, cfg.QueueSize),
		reread:  make(chan pending, cfg.RereadQueue),
		classes: map[diff.Class]*atomic.Int64{},
		noise:   newNoiseStats(cfg.NoiseMargin, cfg.NoiseMinReads),
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
	if cfg.NoiseSample > 0 && cfg.NoiseReader != nil {
		s.calib = make(chan *auditpb.Record, cfg.NoiseQueue)
		for range calibrators {
			s.calibrators.Add(1)
			go s.calibrateLoop()
		}
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
		if s.calib != nil && comparable(p.Class) {
			s.noise.pair(rec.GetTable(), rec.GetOperation(), res.Patch)
			s.maybeCalibrate(rec)
		}
		if s.cfg.Rereader != nil && p.Class.Diverges() && p.Class != diff.ErrorMismatch {
			select {
			case s.reread <- pending{due: time.Now().Add(s.cfg.LagDelay), pair: p}:
				continue
			default:
				s.rereadDropped.Add(1)
			}
		}
		s.emit(s.settle(p))
	}
}

// comparable classes are the answers of two working sides to a request
// whose answers should agree: the base of mismatch and noise rates.
func comparable(c diff.Class) bool {
	switch c {
	case diff.Match, diff.Mismatch, diff.MissingOnPrimary, diff.MissingOnShadow:
		return true
	}
	return false
}

// settle gives a mismatch its last chance: if every path it differs at is
// noise, it is suppressed. Noise names the noisy paths either way.
func (s *Service) settle(p Pair) Pair {
	if p.Class != diff.Mismatch || s.calib == nil {
		return p
	}
	noise, all := s.noise.noisy(p.Record.GetTable(), p.Record.GetOperation(), p.Patch)
	p.Noise = noise
	if all {
		p.Class = diff.Suppressed
	}
	return p
}

// maybeCalibrate queues a sample of records with a DynamoDB side for a
// double read of DynamoDB, never blocking.
func (s *Service) maybeCalibrate(rec *auditpb.Record) {
	if rand.Float64() >= s.cfg.NoiseSample {
		return
	}
	if rec.GetPrimary().GetBackend() != "dynamodb" && rec.GetShadow().GetBackend() != "dynamodb" {
		return
	}
	select {
	case s.calib <- rec:
	default:
		s.calibDropped.Add(1)
	}
}

// calibrateLoop reads DynamoDB twice, back to back, for each queued record
// and counts where the two answers differ.
func (s *Service) calibrateLoop() {
	defer s.calibrators.Done()
	for rec := range s.calib {
		if s.stopCtx.Err() != nil {
			continue // shutdown ran out of time: drain without reading
		}
		ctx, cancel := context.WithTimeout(s.stopCtx, s.cfg.RereadTimeout+s.cfg.NoiseGap)
		first, err1 := s.cfg.NoiseReader.RereadDynamoDB(ctx, rec)
		if s.cfg.NoiseGap > 0 {
			select {
			case <-time.After(s.cfg.NoiseGap):
			case <-ctx.Done():
			}
		}
		second, err2 := s.cfg.NoiseReader.RereadDynamoDB(ctx, rec)
		cancel()
		if err := errors.Join(err1, err2); err != nil || diff.Failed(first) || diff.Failed(second) {
			s.calibFailed.Add(1)
			continue
		}
		twice := proto.Clone(rec).(*auditpb.Record)
		twice.Primary, twice.Shadow = first, second
		res, err := diff.Compare(twice, &s.cfg.Diff)
		if err != nil || !comparable(res.Class) {
			s.calibFailed.Add(1)
			continue
		}
		s.calibrations.Add(1)
		s.noise.calibration(rec.GetTable(), rec.GetOperation(), res.Patch)
	}
}

// NoiseRates returns what the noise calibration knows of table, by path
// (for tests and operators).
func (s *Service) NoiseRates(table string) map[string]NoiseRate { return s.noise.rates(table) }

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
		s.emit(s.settle(s.recheck(pd.pair)))
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
	if err != nil {
		return p
	}
	switch {
	case res.Class == diff.Match:
		p.Class = diff.Lag
	case s.calib != nil && !s.allNoise(p.Record, p.Patch) && s.allNoise(again, res.Patch):
		// What differs now is only noise, while the first answers differed
		// elsewhere too: the real difference was replication catching up.
		p.Class = diff.Lag
	}
	return p
}

func (s *Service) allNoise(rec *auditpb.Record, patch jsondiff.Patch) bool {
	_, all := s.noise.noisy(rec.GetTable(), rec.GetOperation(), patch)
	return all
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
		if s.calib != nil {
			close(s.calib)
		}
		s.rereaders.Wait()
		s.calibrators.Wait()
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
	// Calibrations are double reads of DynamoDB counted for noise;
	// CalibrationDropped were skipped (queue full), CalibrationFailed
	// had a failed read.
	Calibrations, CalibrationDropped, CalibrationFailed int64
	Classes                                             map[diff.Class]int64
	Sinks                                               map[string]SinkStats
}

// SinkStats counts one sink's output and losses. Written counts pairs
// handed to the sink's Write. Errors counts failed writes: batches, plus
// the sink's own flushes for sinks that write later (LossCounter: the
// InfluxDB sink aggregates in Write and writes once per interval). Dropped
// counts pairs lost: queue full, in a failed batch, or aggregated into an
// interval whose write failed.
type SinkStats struct{ Written, Dropped, Errors int64 }

// LossCounter is implemented by sinks whose Write only buffers (the
// InfluxDB sink): their later write failures, and the pairs those carried,
// count in SinkStats.
type LossCounter interface {
	Losses() (failedWrites, lostPairs int64)
}

// Stats returns the current counters (for /metrics and tests).
func (s *Service) Stats() Stats {
	st := Stats{
		Accepted: s.accepted.Load(), Dropped: s.dropped.Load(), Invalid: s.invalid.Load(), Failed: s.failed.Load(),
		Rereads: s.rereads.Load(), RereadDropped: s.rereadDropped.Load(),
		Calibrations: s.calibrations.Load(), CalibrationDropped: s.calibDropped.Load(), CalibrationFailed: s.calibFailed.Load(),
		Classes: map[diff.Class]int64{}, Sinks: map[string]SinkStats{},
	}
	for c, n := range s.classes {
		st.Classes[c] = n.Load()
	}
	for _, sk := range s.sinks {
		ss := SinkStats{Written: sk.written.Load(), Dropped: sk.dropped.Load(), Errors: sk.errors.Load()}
		if lc, ok := sk.sink.(LossCounter); ok {
			failed, lost := lc.Losses()
			ss.Errors += failed
			ss.Dropped += lost
		}
		st.Sinks[sk.sink.Name()] = ss
	}
	return st
}

// Package streamproc replays DynamoDB changes into the target store: the
// Applier (per-item ordered, parallel across items, retries, dead-letter),
// used by the Kinesis consumer (streamproc/kinesis) and the backfill
// (streamproc/backfill). See README.md for the design.
package streamproc

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/dualread/dualread/adapter/attr"
	"github.com/dualread/dualread/adapter/ddberr"
	"github.com/dualread/dualread/adapter/dynamo"
	"github.com/dualread/dualread/streamproc/metrics"
	"github.com/dualread/dualread/streamproc/record"
)

// Replicator applies one change with last-writer-wins; *dynamo.Executor is one.
type Replicator interface {
	Replicate(ctx context.Context, table string, key, image attr.Item, version uint64) (dynamo.Outcome, error)
}

// Config configures an Applier.
type Config struct {
	Target     Replicator
	DeadLetter *DeadLetters // required: a record is never dropped silently
	Metrics    *metrics.Recorder
	Source     string // metrics tag and dead-letter source, e.g. "kinesis"
	// TableMap renames tables (source name → target name); absent names map
	// to themselves.
	TableMap map[string]string
	// Workers is the number of per-item ordered lanes (default 16).
	Workers int
	// MaxAttempts bounds tries of one record on transient errors (default
	// 10); BaseBackoff (default 20 ms) doubles per try up to MaxBackoff
	// (default 2 s), with jitter.
	MaxAttempts             int
	BaseBackoff, MaxBackoff time.Duration
	Logger                  *slog.Logger
}

// Input is one record to apply: its decoded change, or the decoding error
// (such records go straight to the dead-letter store), plus the raw bytes
// and where it came from, for the dead letter.
type Input struct {
	Change *record.Change
	Err    error
	Raw    []byte
	Origin string
}

// Result counts what one Apply call did.
type Result struct {
	Applied, Stale, Duplicate, DeadLettered int
}

func (r *Result) add(o Result) {
	r.Applied += o.Applied
	r.Stale += o.Stale
	r.Duplicate += o.Duplicate
	r.DeadLettered += o.DeadLettered
}

// Applier applies batches of changes through Target. Changes are routed to
// one of Workers lanes by a hash of (table, item key), and each lane applies
// its changes in arrival order: the changes of one item keep their order
// (fewer Stale outcomes, and an order a reader could have observed),
// different items proceed in parallel. Last-writer-wins in Replicate keeps
// the result right whatever the order; the lanes are for throughput and
// fewer wasted writes, not for correctness.
type Applier struct {
	cfg   Config
	log   *slog.Logger
	lanes []chan job
	wg    sync.WaitGroup
}

type job struct {
	ctx context.Context
	in  Input
	b   *batch
}

type batch struct {
	wg  sync.WaitGroup
	mu  sync.Mutex
	res Result
	err error
}

func (b *batch) finish(r Result, err error) {
	b.mu.Lock()
	b.res.add(r)
	if err != nil && b.err == nil {
		b.err = err
	}
	b.mu.Unlock()
	b.wg.Done()
}

// NewApplier starts the lanes; Close stops them.
func NewApplier(cfg Config) (*Applier, error) {
	if cfg.Target == nil || cfg.DeadLetter == nil {
		return nil, errors.New("streamproc: Applier needs a Target and a DeadLetter store")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 16
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 10
	}
	if cfg.BaseBackoff <= 0 {
		cfg.BaseBackoff = 20 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 2 * time.Second
	}
	if cfg.Source == "" {
		cfg.Source = "unknown"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	a := &Applier{cfg: cfg, log: cfg.Logger}
	for range cfg.Workers {
		ch := make(chan job, 64)
		a.lanes = append(a.lanes, ch)
		a.wg.Add(1)
		go a.lane(ch)
	}
	return a, nil
}

// Close stops the lanes after the queued work; no Apply may run concurrently.
func (a *Applier) Close() {
	for _, ch := range a.lanes {
		close(ch)
	}
	a.wg.Wait()
}

// Apply applies a batch and returns when every record is applied, found
// stale or duplicate, or dead-lettered. An error means some record could
// not be settled (transient errors outlasted the retries, or ctx ended):
// the caller must not checkpoint past this batch and should apply it again
// (re-applying is harmless: applied records come back as Duplicate).
// Several Apply calls may run at once (one per shard).
func (a *Applier) Apply(ctx context.Context, ins []Input) (Result, error) {
	b := &batch{}
	b.wg.Add(len(ins))
	for i, in := range ins {
		lane := a.lanes[a.laneOf(in)]
		select {
		case lane <- job{ctx, in, b}:
		case <-ctx.Done():
			// Account for the jobs never queued, then wait for the queued ones.
			for range ins[i:] {
				b.finish(Result{}, ctx.Err())
			}
			b.wg.Wait()
			return b.res, ctx.Err()
		}
	}
	b.wg.Wait()
	return b.res, b.err
}

func (a *Applier) laneOf(in Input) int {
	if in.Change == nil {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(in.Change.Table))
	h.Write([]byte{0})
	k := in.Change.Keys
	if k == nil {
		k = in.Change.NewImage // backfill hands whole items
	}
	h.Write(k.AppendJSON(nil))
	return int(h.Sum64() % uint64(len(a.lanes)))
}

func (a *Applier) lane(ch chan job) {
	defer a.wg.Done()
	for j := range ch {
		r, err := a.one(j.ctx, j.in)
		j.b.finish(r, err)
	}
}

// one settles one record.
func (a *Applier) one(ctx context.Context, in Input) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	if in.Change == nil {
		reason := "undecodable record"
		if in.Err != nil {
			reason = in.Err.Error()
		}
		return a.deadLetter(ctx, in, "", reason)
	}
	c := in.Change
	table := c.Table
	if m, ok := a.cfg.TableMap[table]; ok {
		table = m
	}
	backoff := a.cfg.BaseBackoff
	for attempt := 1; ; attempt++ {
		out, err := a.cfg.Target.Replicate(ctx, table, c.Keys, c.Image(), c.Version)
		if err == nil {
			var r Result
			name := metrics.OutcomeApplied
			switch out {
			case dynamo.Applied:
				r.Applied = 1
			case dynamo.Stale:
				r.Stale, name = 1, metrics.OutcomeStale
			case dynamo.Duplicate:
				r.Duplicate, name = 1, metrics.OutcomeDuplicate
			}
			a.cfg.Metrics.Record(c.Table, a.cfg.Source, name, c.Version)
			return r, nil
		}
		if ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
		if Permanent(err) {
			return a.deadLetter(ctx, in, c.Table, err.Error())
		}
		if attempt >= a.cfg.MaxAttempts {
			return Result{}, fmt.Errorf("streamproc: %s %s: %d attempts: %w", table, c.Keys.AppendJSON(nil), attempt, err)
		}
		a.log.Debug("replicate retry", "table", table, "attempt", attempt, "err", err)
		d := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return Result{}, ctx.Err()
		}
		backoff = min(2*backoff, a.cfg.MaxBackoff)
	}
}

func (a *Applier) deadLetter(ctx context.Context, in Input, table, reason string) (Result, error) {
	l := Letter{Source: a.cfg.Source, Origin: in.Origin, Table: table, Reason: reason, Record: in.Raw}
	if err := a.cfg.DeadLetter.Put(ctx, l); err != nil {
		// Not stored means not settled: the batch is retried, never dropped.
		return Result{}, fmt.Errorf("streamproc: dead-letter: %w", err)
	}
	a.log.Warn("record dead-lettered", "source", a.cfg.Source, "origin", in.Origin, "table", table, "reason", reason)
	if table == "" {
		table = "_unknown" // undecodable: InfluxDB drops empty tag values
	}
	a.cfg.Metrics.Record(table, a.cfg.Source, metrics.OutcomeDeadLettered, 0)
	return Result{DeadLettered: 1}, nil
}

// Permanent reports whether a Replicate error will not go away by retrying
// the same change: validation errors (key schema mismatch, item too large)
// and unknown tables. Conflicts, throttling and backend errors are transient.
func Permanent(err error) bool {
	if record.IsDecodeError(err) {
		return true
	}
	var de *ddberr.Error
	if !errors.As(err, &de) {
		return false
	}
	switch de.Name() {
	case "ValidationException", "ResourceNotFoundException", "SerializationException":
		return true
	}
	return false
}

package verify

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"golang.org/x/time/rate"
)

// side is one endpoint's copy of the table.
type side struct {
	c     *dynamodb.Client
	table string
	lim   *rate.Limiter // items per second for this side, shared by its segments
}

// run is one invocation of Run: the comparison's durable progress (what
// the state file holds) plus this process's clients and counters.
type run struct {
	cfg       Config
	sch       schema
	start     time.Time
	prog      *Progress
	log       *slog.Logger
	sides     [2]side
	itemsRead atomic.Int64

	// mu guards the fields below against the periodic saver and
	// serialises saves: a save sees either the end of a pass or the start
	// of the next, never half a transition.
	mu        sync.Mutex
	hdr       header
	resumed   bool
	cursors   [2][]*cursor // the current pass's: by side, then segment
	differing map[int]bool // pass 2: the buckets read item by item
}

// header is the comparison's progress apart from the cursors.
type header struct {
	StartedAt                time.Time
	Elapsed                  time.Duration // work time of earlier runs
	Pass                     int           // 1: digests, 2: differing buckets
	SourceItems, TargetItems int64         // pass 1 totals, once it is done
	Differing                []int         // in increasing order
}

func (r *run) newCursors(pass int) {
	for s := range 2 {
		r.cursors[s] = make([]*cursor, r.cfg.Segments)
		for seg := range r.cursors[s] {
			r.cursors[s][seg] = newCursor(pass, r.cfg.Buckets)
		}
	}
}

func (r *run) pass() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hdr.Pass
}

// execute runs the passes still to do and builds the report. Each step is
// a no-op when a resumed state shows it done.
func (r *run) execute(ctx context.Context) (*Report, error) {
	if r.pass() == 1 {
		if err := r.scanPass(ctx, 1); err != nil {
			return nil, err
		}
		r.finishPass1()
		if err := r.save(); err != nil {
			return nil, err
		}
	}
	if err := r.scanPass(ctx, 2); err != nil {
		return nil, err
	}
	if err := r.save(); err != nil {
		return nil, err
	}
	return r.report(ctx)
}

// scanPass reads every unfinished segment of both sides, all at once.
func (r *run) scanPass(ctx context.Context, pass int) error {
	r.mu.Lock()
	curs, differing := r.cursors, r.differing
	r.mu.Unlock()
	if allDone(curs) {
		return nil // resumed after it, or a pass 2 with no bucket to read
	}
	r.prog.startPass(pass, curs)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for s := range 2 {
		for seg, c := range curs[s] {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := r.scanSegment(ctx, s, seg, c, differing); err != nil {
					cancel(err)
				}
			}()
		}
	}
	wg.Wait()
	// The first segment's error, or the caller's cancellation.
	return context.Cause(ctx)
}

// finishPass1 merges the segments' bucket sums, finds the differing
// buckets and moves on to pass 2 (with nothing to read if none differ).
func (r *run) finishPass1() {
	r.mu.Lock()
	defer r.mu.Unlock()
	var sums [2][]bucketSum
	for s := range 2 {
		sums[s] = make([]bucketSum, r.cfg.Buckets)
		for _, c := range r.cursors[s] {
			for b := range sums[s] {
				sums[s][b].merge(&c.sums[b])
			}
		}
	}
	r.hdr.SourceItems, r.hdr.TargetItems, r.hdr.Differing = 0, 0, nil
	r.differing = map[int]bool{}
	for b := range r.cfg.Buckets {
		r.hdr.SourceItems += sums[0][b].n
		r.hdr.TargetItems += sums[1][b].n
		if sums[0][b] != sums[1][b] {
			r.hdr.Differing = append(r.hdr.Differing, b)
			r.differing[b] = true
		}
	}
	r.hdr.Pass = 2
	r.newCursors(2)
	if len(r.differing) == 0 {
		for s := range 2 {
			for _, c := range r.cursors[s] {
				c.done = true
			}
		}
	}
	r.log.Info("verify: pass 1 done", "table", r.cfg.Table, "source_items", r.hdr.SourceItems,
		"target_items", r.hdr.TargetItems, "differing_buckets", len(r.hdr.Differing), "of", r.cfg.Buckets)
}

// saveEvery saves the state every StateEvery until the returned stop.
func (r *run) saveEvery(ctx context.Context) (stop func()) {
	if r.cfg.StateFile == "" {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(r.cfg.StateEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := r.save(); err != nil {
					// A failed save loses only resumability, not the
					// comparison: say so and go on.
					r.log.Warn("verify: saving state failed", "file", r.cfg.StateFile, "err", err)
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}

func allDone(curs [2][]*cursor) bool {
	for s := range 2 {
		for _, c := range curs[s] {
			c.mu.Lock()
			done := c.done
			c.mu.Unlock()
			if !done {
				return false
			}
		}
	}
	return true
}

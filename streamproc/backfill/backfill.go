// Package backfill copies a live DynamoDB table into the target with a
// parallel segmented Scan: per-segment checkpoints of LastEvaluatedKey in
// the target backend (a killed run resumes where it stopped), a read-rate
// limit, bounded memory, and last-writer-wins writes stamped with the time
// each page was requested, so a newer stream-applied version always wins.
package backfill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"golang.org/x/time/rate"

	"github.com/dualread/dualread/adapter/store"
	"github.com/dualread/dualread/internal/sdkitem"
	"github.com/dualread/dualread/streamproc"
	"github.com/dualread/dualread/streamproc/record"
)

// CheckpointSpace holds one row per (table, total segments, segment).
const CheckpointSpace = "backfill_checkpoint"

// ScanAPI is the part of the DynamoDB client the backfill uses.
type ScanAPI interface {
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// Segments is a range [From, To] of segments out of Total, written
// "0-15/64" (or "3/64" for one segment): several processes (or Kubernetes
// indexed-job pods) split one table by taking disjoint ranges of the same
// Total.
type Segments struct{ From, To, Total int }

// ParseSegments parses "A-B/T" or "A/T".
func ParseSegments(s string) (Segments, error) {
	rng, tot, ok := strings.Cut(s, "/")
	if !ok {
		return Segments{}, fmt.Errorf("segments %q: want FROM-TO/TOTAL", s)
	}
	total, err := strconv.Atoi(tot)
	if err != nil || total < 1 || total > 1_000_000 {
		return Segments{}, fmt.Errorf("segments %q: TOTAL must be 1..1000000 (DynamoDB's limit)", s)
	}
	a, b, isRange := strings.Cut(rng, "-")
	from, err1 := strconv.Atoi(a)
	to := from
	var err2 error
	if isRange {
		to, err2 = strconv.Atoi(b)
	}
	if err1 != nil || err2 != nil || from < 0 || to < from || to >= total {
		return Segments{}, fmt.Errorf("segments %q: want 0 <= FROM <= TO < TOTAL", s)
	}
	return Segments{from, to, total}, nil
}

// Config configures a backfill run.
type Config struct {
	DynamoDB ScanAPI
	Table    string // DynamoDB table (source)
	Store    store.Store
	Applier  *streamproc.Applier // its TableMap may rename the table
	Segments Segments            // zero value: all of 1 segment
	// Parallel is how many segments are scanned at once (default 4).
	// Memory is bounded by Parallel × (one page, ≤ 1 MB of items as
	// DynamoDB caps a Scan page, plus its decoded form), whatever the table.
	Parallel int
	// PageLimit is Scan's Limit (default 500 items).
	PageLimit int32
	// ReadRate caps items read per second over the whole run (0: no cap).
	ReadRate float64
	// EstimatedItems (e.g. DescribeTable's ItemCount × share of segments)
	// gives the ETA; 0 means no ETA.
	EstimatedItems int64
	// Progress is called every ProgressEvery (default 5 s) and at the end.
	Progress      func(Progress)
	ProgressEvery time.Duration
	Now           func() time.Time
	Logger        *slog.Logger
}

// Progress is a progress report.
type Progress struct {
	Items, Pages       int64
	SegmentsDone, Of   int
	Rate               float64 // items/s since this run started
	ETA                time.Duration
	Elapsed            time.Duration
	Applied, Stale     int64
	Duplicate, Letters int64
}

type checkpoint struct {
	Last  json.RawMessage `json:"last,omitempty"` // LastEvaluatedKey as DynamoDB JSON
	Done  bool            `json:"done,omitempty"`
	Items int64           `json:"items"`
}

// Run backfills the configured segments; it returns when all are done (nil)
// or on the first error (ctx ended, or a page that could not be applied
// after retries). Run it again to resume: finished segments are skipped and
// the others continue after their last checkpointed page.
func Run(ctx context.Context, cfg Config) (Progress, error) {
	if cfg.DynamoDB == nil || cfg.Store == nil || cfg.Applier == nil || cfg.Table == "" {
		return Progress{}, errors.New("backfill: DynamoDB, Store, Applier and Table are required")
	}
	if cfg.Segments.Total == 0 {
		cfg.Segments = Segments{0, 0, 1}
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 4
	}
	if cfg.PageLimit <= 0 {
		cfg.PageLimit = 500
	}
	if cfg.ProgressEvery <= 0 {
		cfg.ProgressEvery = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := cfg.Store.CreateSpace(ctx, CheckpointSpace); err != nil {
		return Progress{}, err
	}
	r := &run{cfg: cfg, start: time.Now()}
	if cfg.ReadRate > 0 {
		r.lim = rate.NewLimiter(rate.Limit(cfg.ReadRate), max(int(cfg.PageLimit), int(cfg.ReadRate)))
	}
	segs := make(chan int)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for range cfg.Parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range segs {
				if err := r.segment(ctx, s); err != nil {
					cancel(err)
					return
				}
				r.segsDone.Add(1)
			}
		}()
	}
	stopProgress := r.reportEvery(ctx)
feed:
	for s := cfg.Segments.From; s <= cfg.Segments.To; s++ {
		select {
		case segs <- s:
		case <-ctx.Done():
			break feed
		}
	}
	close(segs)
	wg.Wait()
	stopProgress()
	p := r.progress()
	if cfg.Progress != nil {
		cfg.Progress(p)
	}
	return p, context.Cause(ctx)
}

type run struct {
	cfg                       Config
	lim                       *rate.Limiter
	start                     time.Time
	items, pages              atomic.Int64
	applied, stale, dup, lett atomic.Int64
	segsDone                  atomic.Int32
}

func (r *run) progress() Progress {
	el := time.Since(r.start)
	p := Progress{Items: r.items.Load(), Pages: r.pages.Load(), SegmentsDone: int(r.segsDone.Load()),
		Of: r.cfg.Segments.To - r.cfg.Segments.From + 1, Elapsed: el,
		Applied: r.applied.Load(), Stale: r.stale.Load(), Duplicate: r.dup.Load(), Letters: r.lett.Load()}
	if el > 0 {
		p.Rate = float64(p.Items) / el.Seconds()
	}
	if p.Rate > 0 && r.cfg.EstimatedItems > p.Items {
		p.ETA = time.Duration(float64(r.cfg.EstimatedItems-p.Items) / p.Rate * float64(time.Second))
	}
	return p
}

func (r *run) reportEvery(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(r.cfg.ProgressEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				p := r.progress()
				if r.cfg.Progress != nil {
					r.cfg.Progress(p)
				}
				r.cfg.Logger.Info("backfill progress", "table", r.cfg.Table, "items", p.Items, "segments_done", p.SegmentsDone,
					"of", p.Of, "items_per_s", int(p.Rate), "eta", p.ETA.Round(time.Second))
			}
		}
	}()
	return func() { cancel(); <-done }
}

func (r *run) ckptKey(seg int) []byte {
	return fmt.Appendf(nil, "%s/%d/%d", r.cfg.Table, r.cfg.Segments.Total, seg)
}

// segment scans one segment from its checkpoint to the end.
func (r *run) segment(ctx context.Context, seg int) error {
	key := r.ckptKey(seg)
	var cp checkpoint
	raw, ok, err := r.cfg.Store.Get(ctx, CheckpointSpace, key)
	if err != nil {
		return err
	}
	if ok {
		if err := json.Unmarshal(raw, &cp); err != nil {
			return fmt.Errorf("backfill: checkpoint %s: %w", key, err)
		}
	}
	for !cp.Done {
		in := &dynamodb.ScanInput{TableName: aws.String(r.cfg.Table), Limit: aws.Int32(r.cfg.PageLimit),
			// Strongly consistent: the page must hold every change made before
			// the request started, since the page's items are stamped with
			// that time and win over older stream records (README).
			ConsistentRead: aws.Bool(true)}
		if r.cfg.Segments.Total > 1 {
			in.Segment, in.TotalSegments = aws.Int32(int32(seg)), aws.Int32(int32(r.cfg.Segments.Total))
		}
		if cp.Last != nil {
			esk, err := sdkitem.KeyToAV(cp.Last)
			if err != nil {
				return err
			}
			in.ExclusiveStartKey = esk
		}
		if r.lim != nil {
			if err := r.lim.WaitN(ctx, int(r.cfg.PageLimit)); err != nil {
				return err
			}
		}
		// The version is taken before the request is sent: every change made
		// before this instant is in the page (ConsistentRead), and any later
		// change carries a later ApproximateCreationDateTime, so its stream
		// record wins over the page (clock skew aside, see README).
		version := uint64(r.cfg.Now().UnixMicro())
		out, err := r.scan(ctx, in)
		if err != nil {
			return err
		}
		ins := make([]streamproc.Input, 0, len(out.Items))
		for i, av := range out.Items {
			it, rawItem, err := sdkitem.ToItem(av)
			origin := fmt.Sprintf("%s/segment %d/%d item %d", r.cfg.Table, seg, r.cfg.Segments.Total, cp.Items+int64(i))
			if err != nil {
				ins = append(ins, streamproc.Input{Err: err, Raw: rawItem, Origin: origin})
				continue
			}
			ins = append(ins, streamproc.Input{Change: &record.Change{Table: r.cfg.Table, Event: record.Modify, NewImage: it, Version: version},
				Raw: rawItem, Origin: origin})
		}
		res, err := r.cfg.Applier.Apply(ctx, ins) // retries transient errors, dead-letters the rest
		if err != nil {
			return err
		}
		r.applied.Add(int64(res.Applied))
		r.stale.Add(int64(res.Stale))
		r.dup.Add(int64(res.Duplicate))
		r.lett.Add(int64(res.DeadLettered))
		r.items.Add(int64(len(out.Items)))
		r.pages.Add(1)
		cp.Items += int64(len(out.Items))
		if out.LastEvaluatedKey == nil {
			cp.Last, cp.Done = nil, true
		} else {
			_, lek, err := sdkitem.ToItem(out.LastEvaluatedKey)
			if err != nil {
				return err
			}
			cp.Last = lek
		}
		b, _ := json.Marshal(cp)
		// Written only after the page was applied: a kill between the two
		// re-reads the page on resume, and re-applying it is harmless.
		if err := r.cfg.Store.Update(ctx, func(ctx context.Context, tx store.Txn) error {
			tx.Put(CheckpointSpace, key, b)
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// scan retries a Scan page with backoff (the SDK already retries
// throttling; this covers longer outages) until ctx ends.
func (r *run) scan(ctx context.Context, in *dynamodb.ScanInput) (*dynamodb.ScanOutput, error) {
	d := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		out, err := r.cfg.DynamoDB.Scan(ctx, in)
		if err == nil {
			return out, nil
		}
		if ctx.Err() != nil || attempt >= 8 {
			return nil, fmt.Errorf("backfill: scan %s: %w", r.cfg.Table, err)
		}
		r.cfg.Logger.Warn("scan failed, retrying", "table", r.cfg.Table, "attempt", attempt, "err", err)
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		d = min(2*d, 10*time.Second)
	}
}

// Package verify compares a DynamoDB table with its copy (any
// DynamoDB-compatible endpoint: the adapter) without holding either in
// memory. Both sides are read with parallel segmented Scans; every item's
// digest (canonical: sets sorted, numbers canonical) is folded into one of
// Buckets hashed key ranges per side. Only the buckets whose digests differ
// are read again, item by item, to report missing, extra and different items.
package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/time/rate"

	"github.com/dualread/dualread/adapter/attr"
	"github.com/dualread/dualread/internal/sdkitem"
)

// Config describes one comparison.
type Config struct {
	Source, Target *dynamodb.Client
	Table          string
	TargetTable    string  // default: Table
	Buckets        int     // hashed key ranges (default 1024)
	Segments       int     // parallel Scan segments per side (default 4)
	ReadRate       float64 // items per second per side (0: no limit)
	SampleRows     int     // examples kept per kind of difference (default 20)
}

// Sample is one reported difference.
type Sample struct {
	Kind   string          `json:"kind"` // missing (on target), extra (on target), different
	Key    json.RawMessage `json:"key"`
	Source json.RawMessage `json:"source,omitempty"`
	Target json.RawMessage `json:"target,omitempty"`
}

// Report is the result of a comparison.
type Report struct {
	Table            string        `json:"table"`
	SourceItems      int64         `json:"source_items"`
	TargetItems      int64         `json:"target_items"`
	Buckets          int           `json:"buckets"`
	DifferingBuckets int           `json:"differing_buckets"`
	Missing          int64         `json:"missing"`
	Extra            int64         `json:"extra"`
	Different        int64         `json:"different"`
	Samples          []Sample      `json:"samples,omitempty"`
	Duration         time.Duration `json:"duration_ns"`
}

// Equal reports whether the two sides hold the same items.
func (r *Report) Equal() bool { return r.Missing == 0 && r.Extra == 0 && r.Different == 0 }

// bucketSum is one side's fold of a bucket: count and XOR of digests
// (order-independent, so the two sides' scan orders do not matter).
type bucketSum struct {
	n   int64
	xor [32]byte
}

// Run compares the table on both sides.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Source == nil || cfg.Target == nil || cfg.Table == "" {
		return nil, errors.New("verify: Source, Target and Table are required")
	}
	if cfg.TargetTable == "" {
		cfg.TargetTable = cfg.Table
	}
	if cfg.Buckets <= 0 {
		cfg.Buckets = 1024
	}
	if cfg.Segments <= 0 {
		cfg.Segments = 4
	}
	if cfg.SampleRows <= 0 {
		cfg.SampleRows = 20
	}
	start := time.Now()
	d, err := cfg.Source.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(cfg.Table)})
	if err != nil {
		return nil, fmt.Errorf("describe source: %w", err)
	}
	var hash, rng string
	for _, k := range d.Table.KeySchema {
		if k.KeyType == types.KeyTypeHash {
			hash = *k.AttributeName
		} else {
			rng = *k.AttributeName
		}
	}
	sides := [2]side{{c: cfg.Source, table: cfg.Table}, {c: cfg.Target, table: cfg.TargetTable}}
	rep := &Report{Table: cfg.Table, Buckets: cfg.Buckets}

	// Phase 1: fold every item into its bucket, on both sides at once.
	sums := [2][]bucketSum{make([]bucketSum, cfg.Buckets), make([]bucketSum, cfg.Buckets)}
	var mu sync.Mutex
	err = both(func(i int) error {
		return sides[i].scan(ctx, cfg, func(it attr.Item) {
			b := bucketOf(keyOf(it, hash, rng), cfg.Buckets)
			dg := digest(it)
			mu.Lock()
			s := &sums[i][b]
			s.n++
			for j := range s.xor {
				s.xor[j] ^= dg[j]
			}
			mu.Unlock()
		})
	})
	if err != nil {
		return nil, err
	}
	differing := map[int]bool{}
	for b := range cfg.Buckets {
		rep.SourceItems += sums[0][b].n
		rep.TargetItems += sums[1][b].n
		if sums[0][b] != sums[1][b] {
			differing[b] = true
		}
	}
	rep.DifferingBuckets = len(differing)

	// Phase 2: only the differing buckets, item by item.
	if len(differing) > 0 {
		items := [2]map[string]attr.Item{{}, {}}
		err = both(func(i int) error {
			return sides[i].scan(ctx, cfg, func(it attr.Item) {
				k := keyOf(it, hash, rng)
				if differing[bucketOf(k, cfg.Buckets)] {
					mu.Lock()
					items[i][k] = it
					mu.Unlock()
				}
			})
		})
		if err != nil {
			return nil, err
		}
		rep.compare(items[0], items[1], hash, rng, cfg.SampleRows)
	}
	rep.Duration = time.Since(start)
	return rep, nil
}

func (r *Report) compare(src, dst map[string]attr.Item, hash, rng string, keep int) {
	kinds := map[string]int{}
	add := func(kind string, key attr.Item, s, t attr.Item) {
		if kinds[kind] >= keep {
			return
		}
		kinds[kind]++
		smp := Sample{Kind: kind, Key: mustJSON(key)}
		if s != nil {
			smp.Source = mustJSON(s)
		}
		if t != nil {
			smp.Target = mustJSON(t)
		}
		r.Samples = append(r.Samples, smp)
	}
	keyAttrs := func(it attr.Item) attr.Item {
		k := attr.Item{hash: it[hash]}
		if rng != "" {
			k[rng] = it[rng]
		}
		return k
	}
	for k, s := range src {
		t, ok := dst[k]
		switch {
		case !ok:
			r.Missing++
			add("missing", keyAttrs(s), s, nil)
		case digest(s) != digest(t):
			r.Different++
			add("different", keyAttrs(s), s, t)
		}
	}
	for k, t := range dst {
		if _, ok := src[k]; !ok {
			r.Extra++
			add("extra", keyAttrs(t), nil, t)
		}
	}
}

func mustJSON(it attr.Item) json.RawMessage {
	b, _ := it.MarshalJSON()
	return b
}

// side is one endpoint's copy of the table.
type side struct {
	c     *dynamodb.Client
	table string
}

// scan reads every item with a parallel segmented, consistent Scan.
func (s side) scan(ctx context.Context, cfg Config, each func(attr.Item)) error {
	var lim *rate.Limiter
	if cfg.ReadRate > 0 {
		lim = rate.NewLimiter(rate.Limit(cfg.ReadRate), max(1, int(cfg.ReadRate)))
	}
	errs := make([]error, cfg.Segments)
	var wg sync.WaitGroup
	for seg := range cfg.Segments {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := &dynamodb.ScanInput{TableName: aws.String(s.table), ConsistentRead: aws.Bool(true),
				Segment: aws.Int32(int32(seg)), TotalSegments: aws.Int32(int32(cfg.Segments))}
			p := dynamodb.NewScanPaginator(s.c, in)
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					errs[seg] = fmt.Errorf("scan %s segment %d: %w", s.table, seg, err)
					return
				}
				if lim != nil {
					if err := lim.WaitN(ctx, min(len(page.Items), lim.Burst())); err != nil {
						errs[seg] = err
						return
					}
				}
				for _, av := range page.Items {
					it, _, err := sdkitem.ToItem(av)
					if err != nil {
						errs[seg] = err
						return
					}
					each(it)
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// both runs f for the source (0) and the target (1) concurrently.
func both(f func(i int) error) error {
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = f(i) }()
	}
	wg.Wait()
	return errors.Join(errs...)
}

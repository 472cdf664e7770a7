// Package verify compares a DynamoDB table with its copy (any
// DynamoDB-compatible endpoint: the adapter) without holding either in
// memory. Both sides are read with parallel segmented Scans; every item's
// digest (canonical: sets sorted, numbers canonical) is folded into one of
// Buckets hashed key ranges per side (pass 1). Only the items of the buckets
// whose digests differ are kept, as key and digest, when both sides are read
// again (pass 2), to count missing, extra and different items; a capped,
// deterministic sample of each kind is read back with GetItem for the report.
//
// With Config.StateFile set a run is resumable: each side's position in each
// segment (its LastEvaluatedKey) and the partial result of the pages read up
// to it are saved atomically every StateEvery, so a run killed at any point
// continues where its last save left off and gives the same report. See
// README.md.
package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/time/rate"

	"github.com/dualread/dualread/adapter/attr"
)

// Limits on the shape of a comparison: DynamoDB's own cap on
// TotalSegments, and a bucket count whose state (Buckets × 40 bytes per
// segment and side) stays small.
const (
	MaxSegments = 1_000_000
	MaxBuckets  = 1 << 20
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
	PageLimit      int32   // Scan Limit (default 1000): also the resume granularity

	// StateFile makes the run resumable: progress is saved there and an
	// existing file is resumed from (if it was written for the same table,
	// buckets and segments; otherwise Run refuses). It is removed when the
	// report is complete.
	StateFile  string
	StateEvery time.Duration // how often the state is saved (default 2 s)
	Fresh      bool          // start over, overwriting an existing StateFile

	// Progress, if set, is updated while Run works (read it from any
	// goroutine, e.g. through its Snapshot for internal/progress).
	Progress *Progress
	Logger   *slog.Logger
}

// Sample is one reported difference.
type Sample struct {
	Kind   string          `json:"kind"` // missing (on target), extra (on target), different
	Key    json.RawMessage `json:"key"`
	Source json.RawMessage `json:"source,omitempty"`
	Target json.RawMessage `json:"target,omitempty"`
	// Attributes names the top-level attributes whose values differ
	// (different only), as read back for the sample.
	Attributes []string `json:"attributes,omitempty"`
}

// Report is the result of a comparison. The counts are exact; Samples holds
// at most SampleRows per kind, the first by key order.
type Report struct {
	Table            string   `json:"table"`
	TargetTable      string   `json:"target_table"`
	Result           string   `json:"result"` // equal or differ
	SourceItems      int64    `json:"source_items"`
	TargetItems      int64    `json:"target_items"`
	Buckets          int      `json:"buckets"`
	Segments         int      `json:"segments"`
	DifferingBuckets int      `json:"differing_buckets"`
	Missing          int64    `json:"missing"`
	Extra            int64    `json:"extra"`
	Different        int64    `json:"different"`
	Samples          []Sample `json:"samples,omitempty"`
	// Duration is the work time of the comparison, summed over the runs
	// that resumed it.
	Duration  time.Duration `json:"duration_ns"`
	StartedAt time.Time     `json:"started_at"`
	// Resumed says this run continued from a state file; ItemsRead is what
	// this run itself scanned (both sides, both passes).
	Resumed   bool  `json:"resumed,omitempty"`
	ItemsRead int64 `json:"items_read"`
}

// Results a Report can have (also the InfluxDB tag).
const (
	ResultEqual  = "equal"
	ResultDiffer = "differ"
)

// Equal reports whether the two sides hold the same items.
func (r *Report) Equal() bool { return r.Missing == 0 && r.Extra == 0 && r.Different == 0 }

// schema is the table's primary key.
type schema struct {
	hash, rng         string
	hashType, rngType attr.Type
}

// Run compares the table on both sides.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	start := time.Now()
	sch, err := describe(ctx, cfg)
	if err != nil {
		return nil, err
	}
	r := &run{cfg: cfg, sch: sch, start: start, prog: cfg.Progress, log: cfg.Logger}
	if r.prog == nil {
		r.prog = &Progress{}
	}
	for i, s := range []struct {
		c     *dynamodb.Client
		table string
	}{{cfg.Source, cfg.Table}, {cfg.Target, cfg.TargetTable}} {
		r.sides[i] = side{c: s.c, table: s.table}
		if cfg.ReadRate > 0 {
			r.sides[i].lim = rate.NewLimiter(rate.Limit(cfg.ReadRate), max(1, int(cfg.ReadRate), int(cfg.PageLimit)))
		}
		r.prog.estimate[i].Store(itemCount(ctx, s.c, s.table))
	}
	// A side that gives no ItemCount is a copy of the other: expect as many.
	for i := range 2 {
		if r.prog.estimate[i].Load() == 0 {
			r.prog.estimate[i].Store(r.prog.estimate[1-i].Load())
		}
	}
	if err := r.loadOrInit(); err != nil {
		return nil, err
	}
	stopSaver := r.saveEvery(ctx)
	rep, err := r.execute(ctx)
	stopSaver()
	if err != nil {
		// Keep what was done for the next run: the last periodic save may
		// be up to StateEvery old.
		if serr := r.save(); serr != nil {
			r.log.Warn("verify: saving state failed", "err", serr)
		}
		return nil, err
	}
	if cfg.StateFile != "" {
		if err := os.Remove(cfg.StateFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("verify: remove finished state: %w", err)
		}
	}
	return rep, nil
}

func (cfg *Config) defaults() error {
	if cfg.Source == nil || cfg.Target == nil || cfg.Table == "" {
		return errors.New("verify: Source, Target and Table are required")
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
	if cfg.Buckets > MaxBuckets || cfg.Segments > MaxSegments {
		return fmt.Errorf("verify: at most %d buckets and %d segments", MaxBuckets, MaxSegments)
	}
	if cfg.SampleRows <= 0 {
		cfg.SampleRows = 20
	}
	if cfg.PageLimit <= 0 {
		cfg.PageLimit = 1000
	}
	if cfg.StateEvery <= 0 {
		cfg.StateEvery = 2 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return nil
}

// describe reads the key schema from the source.
func describe(ctx context.Context, cfg Config) (schema, error) {
	d, err := cfg.Source.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(cfg.Table)})
	if err != nil {
		return schema{}, fmt.Errorf("describe source: %w", err)
	}
	keyTypes := map[string]attr.Type{}
	for _, a := range d.Table.AttributeDefinitions {
		switch a.AttributeType {
		case types.ScalarAttributeTypeS:
			keyTypes[aws.ToString(a.AttributeName)] = attr.S
		case types.ScalarAttributeTypeN:
			keyTypes[aws.ToString(a.AttributeName)] = attr.N
		case types.ScalarAttributeTypeB:
			keyTypes[aws.ToString(a.AttributeName)] = attr.B
		}
	}
	var s schema
	for _, k := range d.Table.KeySchema {
		if k.KeyType == types.KeyTypeHash {
			s.hash = aws.ToString(k.AttributeName)
			s.hashType = keyTypes[s.hash]
		} else {
			s.rng = aws.ToString(k.AttributeName)
			s.rngType = keyTypes[s.rng]
		}
	}
	if s.hash == "" || s.hashType == attr.TypeInvalid || s.rng != "" && s.rngType == attr.TypeInvalid {
		return schema{}, fmt.Errorf("verify: table %s: incomplete key schema in DescribeTable", cfg.Table)
	}
	return s, nil
}

// itemCount is DescribeTable's ItemCount, only an estimate for the ETA (0
// if the side does not say).
func itemCount(ctx context.Context, c *dynamodb.Client, table string) int64 {
	d, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil || d.Table == nil || d.Table.ItemCount == nil {
		return 0
	}
	return *d.Table.ItemCount
}

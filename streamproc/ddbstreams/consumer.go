package ddbstreams

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/dualread/dualread/adapter/store"
	"github.com/dualread/dualread/streamproc"
	"github.com/dualread/dualread/streamproc/lease"
	"github.com/dualread/dualread/streamproc/metrics"
)

// TableAPI is the part of the DynamoDB client the consumer uses: it tells
// a table's current stream from the stream of an earlier table that had
// the same name.
type TableAPI interface {
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// Config configures a Consumer.
type Config struct {
	Client API
	// DynamoDB, when set, is asked when each stream's table was created:
	// a stream older than its table belongs to a deleted table of the same
	// name, whose records must not be replayed into the new one.
	DynamoDB TableAPI
	// Tables are the source tables to replicate; empty means every table
	// with a stream. Streams are discovered every Tick (one ListStreams
	// round), so tables created or streams enabled later are picked up.
	Tables  []string
	Store   store.Store
	Applier *streamproc.Applier
	Metrics *metrics.Recorder
	// Owner identifies this instance in the lease table (default random).
	Owner string
	// LeaseDuration and Tick as for the Kinesis consumer (default 10 s and
	// LeaseDuration/4).
	LeaseDuration, Tick time.Duration
	// Idle is the pause after an empty GetRecords (default 1 s); BatchLimit
	// caps records per GetRecords (default 1000).
	Idle       time.Duration
	BatchLimit int32
	// Resolution overrides the time resolution of ApproximateCreationDateTime
	// (default ResolutionOf the stream's ARN).
	Resolution time.Duration
	// DescribeEvery is how often a stream's shard list is re-read (default
	// 10 s): new shards appear when DynamoDB rolls or splits them, every few
	// hours, and DescribeStream is limited to 10 calls per second.
	DescribeEvery time.Duration
	// Trace, when set, gets "take", "start", "end" and "lost" of each shard.
	Trace  func(event, stream, shard string)
	Logger *slog.Logger
}

// Group is the lease group of the DynamoDB Streams consumer: one group for
// every stream, so instances share all shards of all tables fairly (most
// tables have a single shard; per-stream shares would let one instance take
// every table). Shard ids in the group are "ARN|shardId".
const Group = "dynamodbstreams"

// Consumer replicates DynamoDB Streams into the target: the shards of
// every replicated stream are shared between instances through one lease
// group; each shard is read by whichever instance holds its lease, in
// lineage order, and each batch is applied through the Applier and then
// checkpointed with the stamper's state.
type Consumer struct {
	cfg    Config
	log    *slog.Logger
	reader *Reader
	coord  *lease.Coordinator
	tables map[string]bool // nil: all

	mu      sync.Mutex
	streams map[string]*stream // by ARN, including skipped ones
	// noStream are configured tables found without a stream (warned once).
	noStream map[string]bool
}

type stream struct {
	s    Stream
	skip string // why it is not replicated; "" if it is
	// desc is the last description, refreshed every DescribeEvery
	// (DynamoDB allows 10 DescribeStream calls per second per account).
	desc *Description
	at   time.Time
}

// New checks cfg and creates the lease space.
func New(ctx context.Context, cfg Config) (*Consumer, error) {
	if cfg.Client == nil || cfg.Store == nil || cfg.Applier == nil {
		return nil, errors.New("ddbstreams: Client, Store and Applier are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Trace == nil {
		cfg.Trace = func(string, string, string) {}
	}
	if cfg.DescribeEvery <= 0 {
		cfg.DescribeEvery = 10 * time.Second
	}
	c := &Consumer{cfg: cfg, streams: map[string]*stream{}, noStream: map[string]bool{}}
	if len(cfg.Tables) > 0 {
		c.tables = map[string]bool{}
		for _, t := range cfg.Tables {
			c.tables[t] = true
		}
	}
	c.reader = &Reader{Client: cfg.Client, Idle: cfg.Idle, BatchLimit: cfg.BatchLimit, Logger: cfg.Logger,
		Behind: func(arn, shard string, ms int64) { cfg.Metrics.ShardBehind(arn, shard, ms) }}
	coord, err := lease.New(ctx, lease.Config{Store: cfg.Store, Stream: Group, Owner: cfg.Owner,
		LeaseDuration: cfg.LeaseDuration, Tick: cfg.Tick, Logger: cfg.Logger,
		Trace: func(ev, id string) {
			arn, shard := splitID(id)
			cfg.Trace(ev, arn, shard)
		},
		List: c.listShards,
		Work: c.work,
	})
	if err != nil {
		return nil, err
	}
	c.coord = coord
	c.cfg.Owner = coord.Owner()
	c.log = cfg.Logger.With("owner", c.cfg.Owner)
	return c, nil
}

// Owner is this instance's lease owner id.
func (c *Consumer) Owner() string { return c.cfg.Owner }

// Held lists the shards this instance holds now, as "ARN|shardId".
func (c *Consumer) Held() []string { return c.coord.Held() }

// Run consumes until ctx ends and returns ctx's error once every worker
// stopped. Leases are not released: call Release afterwards for a
// graceful hand-over.
func (c *Consumer) Run(ctx context.Context) error { return c.coord.Run(ctx) }

// Release frees this instance's leases so other instances take the shards
// at once rather than after LeaseDuration.
func (c *Consumer) Release(ctx context.Context) { c.coord.Release(ctx) }

func shardID(arn, shard string) string { return arn + "|" + shard }

func splitID(id string) (arn, shard string) {
	arn, shard, _ = strings.Cut(id, "|")
	return arn, shard
}

// listShards is one discovery round: the streams of the configured tables
// (new ones vetted once), and the shards of each replicated stream.
func (c *Consumer) listShards(ctx context.Context) ([]lease.Shard, error) {
	found, err := ListStreams(ctx, c.cfg.Client, "")
	if err != nil {
		return nil, err
	}
	var out []lease.Shard
	have := map[string]bool{}
	for _, s := range found {
		have[s.Table] = true
	}
	for t := range c.tables {
		if !have[t] && !c.noStream[t] {
			c.log.Warn("table has no stream (yet): enable one with NEW_AND_OLD_IMAGES to replicate it", "table", t)
		}
		c.noStream[t] = !have[t]
	}
	for _, s := range found {
		if c.tables != nil && !c.tables[s.Table] {
			continue
		}
		if c.cfg.Resolution > 0 {
			s.Resolution = c.cfg.Resolution
		}
		c.mu.Lock()
		st := c.streams[s.ARN]
		c.mu.Unlock()
		if st == nil {
			skip, err := c.vet(ctx, s)
			if err != nil {
				c.log.Warn("cannot check stream yet", "stream", s.ARN, "err", err)
				continue
			}
			if skip != "" {
				c.log.Warn("stream not replicated", "stream", s.ARN, "table", s.Table, "why", skip)
			} else {
				c.log.Info("replicating stream", "stream", s.ARN, "table", s.Table, "resolution", s.Resolution)
			}
			st = &stream{s: s, skip: skip}
			c.mu.Lock()
			c.streams[s.ARN] = st
			c.mu.Unlock()
		}
		if st.skip != "" {
			continue
		}
		if st.desc == nil || time.Since(st.at) >= c.cfg.DescribeEvery {
			// One stream failing to describe must not stall the others (a
			// failed listing skips the lease renewals of the round): use
			// the last description, or leave the stream for next round.
			d, err := c.reader.Describe(ctx, s.ARN)
			if err == nil {
				st.desc, st.at = d, time.Now()
			} else if c.log.Warn("DescribeStream failed", "stream", s.ARN, "err", err); st.desc == nil {
				continue
			}
		}
		for _, sh := range st.desc.Shards {
			ls := lease.Shard{ID: shardID(s.ARN, sh.ID)}
			if sh.Parent != "" {
				ls.Parents = []string{shardID(s.ARN, sh.Parent)}
			}
			out = append(out, ls)
		}
	}
	return out, nil
}

func (c *Consumer) stream(arn string) (Stream, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.streams[arn]
	if st == nil || st.skip != "" {
		return Stream{}, false
	}
	return st.s, true
}

// ListStreams lists the streams of table (every stream when table is ""),
// all pages.
func ListStreams(ctx context.Context, api API, table string) ([]Stream, error) {
	var out []Stream
	in := &dynamodbstreams.ListStreamsInput{}
	if table != "" {
		in.TableName = aws.String(table)
	}
	for {
		page, err := api.ListStreams(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, s := range page.Streams {
			arn := aws.ToString(s.StreamArn)
			out = append(out, Stream{ARN: arn, Table: aws.ToString(s.TableName), Resolution: ResolutionOf(arn)})
		}
		if page.LastEvaluatedStreamArn == nil {
			return out, nil
		}
		in.ExclusiveStartStreamArn = page.LastEvaluatedStreamArn
	}
}

// vet says why a stream must not be replicated ("" if it may).
func (c *Consumer) vet(ctx context.Context, s Stream) (string, error) {
	return Vet(ctx, c.reader, c.cfg.DynamoDB, s)
}

// Vet says why a stream's records must not be replayed ("" if they may):
// they lack the new image, or, when tables is set, the stream belongs to
// an earlier table of the same name (DynamoDB keeps listing a deleted
// table's stream for 24 h) or its table is gone.
func Vet(ctx context.Context, r *Reader, tables TableAPI, s Stream) (string, error) {
	d, err := r.Describe(ctx, s.ARN)
	if err != nil {
		return "", err
	}
	if !d.Replayable() {
		return fmt.Sprintf("StreamViewType %s has no new image: enable NEW_IMAGE or NEW_AND_OLD_IMAGES", d.ViewType), nil
	}
	if tables == nil {
		return "", nil
	}
	t, err := tables.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.Table)})
	var nf *dtypes.ResourceNotFoundException
	if errors.As(err, &nf) {
		return "its table no longer exists", nil
	}
	if err != nil {
		return "", err
	}
	// A table's own stream is created with it or later; a second of slack
	// covers the two clocks' rounding.
	if created := t.Table.CreationDateTime; created != nil && !d.Created.IsZero() && d.Created.Before(created.Add(-time.Second)) {
		return "the stream is older than the table: it belongs to a deleted table of the same name", nil
	}
	return "", nil
}

// work reads one leased shard from its checkpoint (with the stamper state
// saved there) or, new, from TRIM_HORIZON continuing its parents' final
// stamp; each batch is applied until settled, then checkpointed.
func (c *Consumer) work(ctx context.Context, w *lease.Worker) error {
	arn, shard := splitID(w.Shard())
	s, ok := c.stream(arn)
	if !ok {
		return fmt.Errorf("ddbstreams: lease for unknown stream %s", arn)
	}
	defer c.cfg.Metrics.ShardDone(s.ARN, shard)
	var st Stamp
	if w.Checkpoint() != "" {
		if err := json.Unmarshal(w.State(), &st); err != nil {
			return fmt.Errorf("ddbstreams: shard %s: bad saved state: %w", shard, err)
		}
	} else {
		var ps []Stamp
		for _, p := range w.Parents() {
			var pst Stamp
			if len(p.State) > 0 && json.Unmarshal(p.State, &pst) == nil {
				ps = append(ps, pst)
			}
		}
		st = Merge(ps...)
	}
	final, err := c.reader.ReadShard(ctx, s, shard, w.Checkpoint(), st, func(ctx context.Context, b Batch) error {
		ins := make([]streamproc.Input, len(b.Records))
		for i, r := range b.Records {
			ins[i] = streamproc.Input{Change: r.Change, Err: r.Err, Raw: r.Raw, Origin: s.ARN + "/" + shard + "/" + r.Seq}
		}
		if _, err := c.cfg.Applier.ApplyAll(ctx, ins, c.log, s.Table+"/"+shard); err != nil {
			return err
		}
		state, err := json.Marshal(b.Stamp)
		if err != nil {
			return err
		}
		return w.Save(ctx, b.Last, state)
	})
	if err != nil {
		return err
	}
	state, err := json.Marshal(final)
	if err != nil {
		return err
	}
	w.EndState(state)
	return nil
}

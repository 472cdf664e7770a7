// Package kinesis consumes Kinesis Data Streams for DynamoDB: it lists the
// stream's shards, shares them between instances with leases kept in the
// target backend (streamproc/lease), reads each shard with GetRecords respecting
// lineage (a child only after its parents reached SHARD_END), applies the
// records through a streamproc.Applier and checkpoints each batch after it
// was applied.
package kinesis

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/dualread/dualread/adapter/store"
	"github.com/dualread/dualread/streamproc"
	"github.com/dualread/dualread/streamproc/lease"
	"github.com/dualread/dualread/streamproc/metrics"
	"github.com/dualread/dualread/streamproc/record"
)

// API is the part of the Kinesis client the consumer uses.
type API interface {
	ListShards(ctx context.Context, in *kinesis.ListShardsInput, opts ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error)
	GetShardIterator(ctx context.Context, in *kinesis.GetShardIteratorInput, opts ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *kinesis.GetRecordsInput, opts ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error)
}

// Config configures a Consumer.
type Config struct {
	Client  API
	Stream  string // addressed by name (kinesalite resolves names only)
	Store   store.Store
	Applier *streamproc.Applier
	Metrics *metrics.Recorder
	// Owner identifies this instance in the lease table; default random.
	// Each process must have its own.
	Owner string
	// LeaseDuration is how long a lease lives without renewal (default
	// 10 s): a dead instance's shards are taken over after at most this
	// plus one Tick.
	LeaseDuration time.Duration
	// Tick is how often leases are renewed and the shard list re-read
	// (default LeaseDuration/4).
	Tick time.Duration
	// Idle is the pause after a GetRecords that returned nothing (default
	// 1 s; AWS allows 5 GetRecords per second per shard).
	Idle time.Duration
	// BatchLimit caps records per GetRecords (default 1000).
	BatchLimit int32
	// Trace, when set, is called on "take", "start", "end" (SHARD_END
	// checkpointed) and "lost" of each shard; tests use it.
	Trace  func(event, shard string)
	Logger *slog.Logger
}

// Consumer is one instance of the stream consumer: the shared lease rounds
// (streamproc/lease) with a Kinesis shard reader.
type Consumer struct {
	cfg   Config
	log   *slog.Logger
	coord *lease.Coordinator
}

// New checks cfg and creates the lease space.
func New(ctx context.Context, cfg Config) (*Consumer, error) {
	if cfg.Client == nil || cfg.Store == nil || cfg.Applier == nil || cfg.Stream == "" {
		return nil, errors.New("kinesis: Client, Store, Applier and Stream are required")
	}
	if cfg.Idle <= 0 {
		cfg.Idle = time.Second
	}
	if cfg.BatchLimit <= 0 {
		cfg.BatchLimit = 1000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c := &Consumer{cfg: cfg}
	coord, err := lease.New(ctx, lease.Config{Store: cfg.Store, Stream: cfg.Stream, Owner: cfg.Owner,
		LeaseDuration: cfg.LeaseDuration, Tick: cfg.Tick, List: c.listShards, Work: c.work, Trace: cfg.Trace, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	c.coord = coord
	c.cfg.Owner = coord.Owner()
	c.log = cfg.Logger.With("stream", cfg.Stream, "owner", c.cfg.Owner)
	return c, nil
}

// Owner is this instance's lease owner id.
func (c *Consumer) Owner() string { return c.cfg.Owner }

// Held lists the shards this instance holds now.
func (c *Consumer) Held() []string { return c.coord.Held() }

// Run consumes until ctx ends. It returns ctx's error; leases are not
// released (a stopped instance is indistinguishable from a crashed one, and
// its shards move after LeaseDuration). Use Release first for a graceful
// hand-over.
func (c *Consumer) Run(ctx context.Context) error { return c.coord.Run(ctx) }

// Release stops every worker and frees this instance's leases, so others
// take the shards at their next tick instead of after expiry.
func (c *Consumer) Release(ctx context.Context) { c.coord.Release(ctx) }

// listShards returns every shard of the stream (open and closed, as long
// as Kinesis still lists them) with its parents.
func (c *Consumer) listShards(ctx context.Context) ([]lease.Shard, error) {
	var out []lease.Shard
	in := &kinesis.ListShardsInput{StreamName: aws.String(c.cfg.Stream)}
	for {
		page, err := c.cfg.Client.ListShards(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, s := range page.Shards {
			ls := lease.Shard{ID: aws.ToString(s.ShardId)}
			for _, p := range []*string{s.ParentShardId, s.AdjacentParentShardId} {
				if p != nil {
					ls.Parents = append(ls.Parents, *p)
				}
			}
			out = append(out, ls)
		}
		if page.NextToken == nil {
			return out, nil
		}
		in = &kinesis.ListShardsInput{NextToken: page.NextToken}
	}
}

// work reads one shard from its checkpoint to its end (nil: the
// coordinator then checkpoints SHARD_END) or until the lease is lost or
// ctx ends.
func (c *Consumer) work(ctx context.Context, w *lease.Worker) error {
	shard := w.Shard()
	defer c.cfg.Metrics.ShardDone(c.cfg.Stream, shard)
	cp := w.Checkpoint()
	iter, err := c.iterator(ctx, shard, cp)
	if err != nil {
		return err
	}
	backoff := streamproc.NewBackoff()
	for {
		out, err := c.cfg.Client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(c.cfg.BatchLimit)})
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			var expired *types.ExpiredIteratorException
			if !errors.As(err, &expired) {
				c.log.Warn("GetRecords failed", "shard", shard, "err", err)
				if err := backoff.Wait(ctx); err != nil {
					return err
				}
			}
			if iter, err = c.iterator(ctx, shard, cp); err != nil {
				return err
			}
			continue
		}
		backoff.Reset()
		if out.MillisBehindLatest != nil {
			c.cfg.Metrics.ShardBehind(c.cfg.Stream, shard, *out.MillisBehindLatest)
		}
		if n := len(out.Records); n > 0 {
			ins := make([]streamproc.Input, n)
			for i, r := range out.Records {
				ch, derr := record.DecodeKinesis(r.Data)
				ins[i] = streamproc.Input{Change: ch, Err: derr, Raw: r.Data,
					Origin: c.cfg.Stream + "/" + shard + "/" + aws.ToString(r.SequenceNumber)}
			}
			// Re-apply the whole batch until it settles: the checkpoint
			// never passes a record that was not applied or dead-lettered.
			if _, err := c.cfg.Applier.ApplyAll(ctx, ins, c.log, shard); err != nil {
				return err
			}
			cp = aws.ToString(out.Records[n-1].SequenceNumber)
			if err := w.Save(ctx, cp, nil); err != nil {
				return err
			}
		}
		if out.NextShardIterator == nil {
			return nil
		}
		iter = out.NextShardIterator
		if len(out.Records) == 0 {
			select {
			case <-time.After(c.cfg.Idle):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
}

// iterator positions a shard after its checkpoint, or at TRIM_HORIZON
// when there is none: a consumer started before the backfill must see
// every change the stream still holds (see README: order of operations).
func (c *Consumer) iterator(ctx context.Context, shard, cp string) (*string, error) {
	in := &kinesis.GetShardIteratorInput{StreamName: aws.String(c.cfg.Stream), ShardId: aws.String(shard),
		ShardIteratorType: types.ShardIteratorTypeTrimHorizon}
	if cp != "" {
		in.ShardIteratorType = types.ShardIteratorTypeAfterSequenceNumber
		in.StartingSequenceNumber = aws.String(cp)
	}
	b := streamproc.NewBackoff()
	for {
		out, err := c.cfg.Client.GetShardIterator(ctx, in)
		if err == nil {
			return out.ShardIterator, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		c.log.Warn("GetShardIterator failed", "shard", shard, "err", err)
		if err := b.Wait(ctx); err != nil {
			return nil, err
		}
	}
}

// Package kdsbridge is a local-development stand-in for AWS's "Kinesis
// Data Streams for DynamoDB", which DynamoDB Local lacks: it tails the
// DynamoDB Streams of DynamoDB Local (ddbstreams.Walker) and publishes each
// change to a Kinesis stream (kinesalite) as the JSON record that feature
// writes, so `dualread streamproc --source kinesis` can be run locally
// end to end. Not for production: it keeps no checkpoints (every start
// republishes what the streams retain, duplicates that last-writer-wins
// absorbs) and its times are stamped versions, not the changes' exact
// times.
package kdsbridge

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/dualread/dualread/streamproc"
	"github.com/dualread/dualread/streamproc/ddbstreams"
)

// DynamoDBAPI is the part of the DynamoDB client the bridge uses.
type DynamoDBAPI interface {
	ListTables(ctx context.Context, in *dynamodb.ListTablesInput, opts ...func(*dynamodb.Options)) (*dynamodb.ListTablesOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	UpdateTable(ctx context.Context, in *dynamodb.UpdateTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateTableOutput, error)
}

// KinesisAPI is the part of the Kinesis client the bridge uses.
type KinesisAPI interface {
	DescribeStream(ctx context.Context, in *kinesis.DescribeStreamInput, opts ...func(*kinesis.Options)) (*kinesis.DescribeStreamOutput, error)
	CreateStream(ctx context.Context, in *kinesis.CreateStreamInput, opts ...func(*kinesis.Options)) (*kinesis.CreateStreamOutput, error)
	PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, opts ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error)
}

// Config configures Run.
type Config struct {
	DynamoDB DynamoDBAPI
	Streams  ddbstreams.API
	Kinesis  KinesisAPI
	// Stream is the Kinesis stream, created (with Shards shards) if missing.
	Stream string
	Shards int32 // default 2
	// Tables restricts the bridge to these tables; empty means every table.
	Tables []string
	// EnableStreams turns on a NEW_AND_OLD_IMAGES stream on tables that
	// have none. Changes made before the stream is on are not captured:
	// create tables with a stream to capture everything.
	EnableStreams bool
	// Poll is how often tables, streams and shards are looked for and an
	// idle shard is read again (default 250 ms).
	Poll time.Duration
	// Region goes into the records' awsRegion (default us-east-1).
	Region string
	Logger *slog.Logger
}

// Stats counts what a bridge did.
type Stats struct {
	Published atomic.Int64 // records put to Kinesis
	Skipped   atomic.Int64 // records that could not be converted (logged)
}

// Run bridges until ctx ends, then returns nil once every reader stopped.
// It fails only if the Kinesis stream cannot be had.
func Run(ctx context.Context, cfg Config, stats *Stats) error {
	if cfg.DynamoDB == nil || cfg.Streams == nil || cfg.Kinesis == nil || cfg.Stream == "" {
		return errors.New("kdsbridge: DynamoDB, Streams, Kinesis and Stream are required")
	}
	if cfg.Shards <= 0 {
		cfg.Shards = 2
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 250 * time.Millisecond
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if stats == nil {
		stats = &Stats{}
	}
	b := &bridge{cfg: cfg, log: cfg.Logger, stats: stats, known: map[string]bool{}, streamed: map[string]bool{}}
	if len(cfg.Tables) > 0 {
		b.only = map[string]bool{}
		for _, t := range cfg.Tables {
			b.only[t] = true
		}
	}
	b.reader = &ddbstreams.Reader{Client: cfg.Streams, Idle: cfg.Poll, Logger: cfg.Logger}
	if err := b.ensureStream(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	b.log.Info("kds-bridge publishing", "stream", cfg.Stream)
	defer b.wg.Wait()
	for {
		b.round(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(cfg.Poll):
		}
	}
}

type bridge struct {
	cfg      Config
	log      *slog.Logger
	stats    *Stats
	reader   *ddbstreams.Reader
	only     map[string]bool // nil: every table
	known    map[string]bool // stream ARNs handled (walked or refused)
	streamed map[string]bool // tables known to have a stream
	wg       sync.WaitGroup
}

func (b *bridge) wanted(table string) bool { return b.only == nil || b.only[table] }

// ensureStream creates the Kinesis stream if it does not exist and waits
// until it is ACTIVE.
func (b *bridge) ensureStream(ctx context.Context) error {
	name := aws.String(b.cfg.Stream)
	_, err := b.cfg.Kinesis.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: name})
	var nf *ktypes.ResourceNotFoundException
	if errors.As(err, &nf) {
		_, err = b.cfg.Kinesis.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: name, ShardCount: aws.Int32(b.cfg.Shards)})
		var inUse *ktypes.ResourceInUseException
		if err != nil && !errors.As(err, &inUse) {
			return err
		}
		b.log.Info("created Kinesis stream", "stream", b.cfg.Stream, "shards", b.cfg.Shards)
	} else if err != nil {
		return err
	}
	return kinesis.NewStreamExistsWaiter(b.cfg.Kinesis, func(o *kinesis.StreamExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, time.Second
	}).Wait(ctx, &kinesis.DescribeStreamInput{StreamName: name}, 2*time.Minute)
}

// round turns on missing streams (if asked) and starts a walker for every
// new stream of a wanted table.
func (b *bridge) round(ctx context.Context) {
	if b.cfg.EnableStreams {
		if err := b.enableStreams(ctx); err != nil && ctx.Err() == nil {
			b.log.Warn("enabling streams failed", "err", err)
		}
	}
	streams, err := ddbstreams.ListStreams(ctx, b.cfg.Streams, "")
	if err != nil {
		if ctx.Err() == nil {
			b.log.Warn("ListStreams failed", "err", err)
		}
		return
	}
	for _, s := range streams {
		if b.known[s.ARN] || !b.wanted(s.Table) {
			continue
		}
		skip, err := ddbstreams.Vet(ctx, b.reader, b.cfg.DynamoDB, s)
		if err != nil {
			if ctx.Err() == nil {
				b.log.Warn("cannot check stream yet", "stream", s.ARN, "err", err)
			}
			continue
		}
		b.known[s.ARN] = true
		if skip != "" {
			b.log.Warn("stream not bridged", "stream", s.ARN, "table", s.Table, "why", skip)
			continue
		}
		b.log.Info("bridging table", "table", s.Table, "stream", s.ARN)
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			w := &ddbstreams.Walker{Reader: b.reader, Poll: b.cfg.Poll}
			if err := w.Walk(ctx, s, b.publish); err == nil {
				b.log.Info("stream ended", "table", s.Table, "stream", s.ARN)
			}
		}()
	}
}

// enableStreams turns on a NEW_AND_OLD_IMAGES stream on every wanted table
// that has none.
func (b *bridge) enableStreams(ctx context.Context) error {
	in := &dynamodb.ListTablesInput{}
	for {
		page, err := b.cfg.DynamoDB.ListTables(ctx, in)
		if err != nil {
			return err
		}
		for _, t := range page.TableNames {
			if b.streamed[t] || !b.wanted(t) {
				continue
			}
			d, err := b.cfg.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(t)})
			if err != nil {
				b.log.Warn("DescribeTable failed", "table", t, "err", err)
				continue
			}
			if spec := d.Table.StreamSpecification; spec != nil && aws.ToBool(spec.StreamEnabled) {
				b.streamed[t] = true
				continue
			}
			if d.Table.TableStatus != dtypes.TableStatusActive {
				continue // try again next round
			}
			_, err = b.cfg.DynamoDB.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(t),
				StreamSpecification: &dtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: dtypes.StreamViewTypeNewAndOldImages}})
			if err != nil {
				b.log.Warn("enabling stream failed", "table", t, "err", err)
				continue
			}
			b.streamed[t] = true
			b.log.Info("enabled stream", "table", t, "view", "NEW_AND_OLD_IMAGES")
		}
		if page.LastEvaluatedTableName == nil {
			return nil
		}
		in.ExclusiveStartTableName = page.LastEvaluatedTableName
	}
}

// publish puts one batch of a shard to Kinesis, retrying failed entries
// until every one is in (or ctx ends): the walker reads the shard's next
// batch only after this returns, so an item's changes are published in
// order, and none is lost.
func (b *bridge) publish(ctx context.Context, shard string, batch ddbstreams.Batch) error {
	entries := make([]ktypes.PutRecordsRequestEntry, 0, len(batch.Records))
	for _, r := range batch.Records {
		data, pk, err := toKDS(r, b.cfg.Region)
		if err != nil {
			b.stats.Skipped.Add(1)
			b.log.Error("record not bridged", "shard", shard, "seq", r.Seq, "err", err)
			continue
		}
		entries = append(entries, ktypes.PutRecordsRequestEntry{Data: data, PartitionKey: aws.String(pk)})
	}
	backoff := streamproc.NewBackoff()
	for len(entries) > 0 {
		n := min(len(entries), 500) // PutRecords takes up to 500 records
		out, err := b.cfg.Kinesis.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(b.cfg.Stream), Records: entries[:n]})
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			b.log.Warn("PutRecords failed", "err", err)
			if err := backoff.Wait(ctx); err != nil {
				return err
			}
			continue
		}
		var failed []ktypes.PutRecordsRequestEntry
		for i, r := range out.Records {
			if r.ErrorCode != nil {
				failed = append(failed, entries[i])
			}
		}
		b.stats.Published.Add(int64(n - len(failed)))
		entries = append(failed, entries[n:]...)
		if len(failed) > 0 {
			if err := backoff.Wait(ctx); err != nil {
				return err
			}
		} else {
			backoff.Reset()
		}
	}
	return nil
}

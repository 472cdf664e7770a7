// Package ddbstreams reads DynamoDB Streams: an ordered shard reader that
// turns records into record form with versions fit for last-writer-wins
// (Reader, Stamp), a single-process walker of a whole stream in lineage
// order (Walker, used by the kds-bridge) and the replicating Consumer,
// whose instances share shards and checkpoints through the lease table
// (streamproc/lease) like the Kinesis consumer's.
package ddbstreams

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/dualread/dualread/streamproc"
)

// API is the part of the DynamoDB Streams client used here.
type API interface {
	ListStreams(ctx context.Context, in *dynamodbstreams.ListStreamsInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.ListStreamsOutput, error)
	DescribeStream(ctx context.Context, in *dynamodbstreams.DescribeStreamInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error)
	GetShardIterator(ctx context.Context, in *dynamodbstreams.GetShardIteratorInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *dynamodbstreams.GetRecordsInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error)
}

// Stream is one DynamoDB stream.
type Stream struct {
	ARN   string
	Table string
	// Resolution of its ApproximateCreationDateTime (ResolutionOf(ARN)).
	Resolution time.Duration
}

// Shard is one shard of a stream.
type Shard struct {
	ID     string
	Parent string // "" for a first-generation shard
	Closed bool   // has an EndingSequenceNumber: it will get no more records
}

// Description is what DescribeStream says about a stream.
type Description struct {
	Shards   []Shard
	Status   types.StreamStatus
	ViewType types.StreamViewType
	Created  time.Time
}

// Replayable reports whether the stream's records carry the new image,
// without which a change cannot be applied.
func (d *Description) Replayable() bool {
	return d.ViewType == types.StreamViewTypeNewImage || d.ViewType == types.StreamViewTypeNewAndOldImages
}

// Reader reads shards of DynamoDB streams.
type Reader struct {
	Client API
	// Idle is the pause after a GetRecords that returned nothing (default
	// 1 s; DynamoDB Streams allow 5 GetRecords per second per shard).
	Idle time.Duration
	// BatchLimit caps records per GetRecords (default and maximum 1000).
	BatchLimit int32
	Logger     *slog.Logger
	// Behind, when set, is told after each GetRecords how far (ms) the
	// shard's reader is behind: now minus the last record's time, or 0
	// when it returned nothing (it is at the tip).
	Behind func(stream, shard string, ms int64)
}

func (r *Reader) defaults() {
	if r.Idle <= 0 {
		r.Idle = time.Second
	}
	if r.BatchLimit <= 0 || r.BatchLimit > 1000 {
		r.BatchLimit = 1000
	}
	if r.Logger == nil {
		r.Logger = slog.Default()
	}
}

func (r *Reader) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.Default()
	}
	return r.Logger
}

// Describe lists every shard of a stream (all pages) with its status.
func (r *Reader) Describe(ctx context.Context, arn string) (*Description, error) {
	d := &Description{}
	in := &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn)}
	for {
		out, err := r.Client.DescribeStream(ctx, in)
		if err != nil {
			return nil, err
		}
		sd := out.StreamDescription
		if sd == nil {
			return nil, errors.New("ddbstreams: DescribeStream without StreamDescription")
		}
		d.Status, d.ViewType = sd.StreamStatus, sd.StreamViewType
		if sd.CreationRequestDateTime != nil {
			d.Created = *sd.CreationRequestDateTime
		}
		for _, s := range sd.Shards {
			sh := Shard{ID: aws.ToString(s.ShardId), Parent: aws.ToString(s.ParentShardId)}
			sh.Closed = s.SequenceNumberRange != nil && s.SequenceNumberRange.EndingSequenceNumber != nil
			d.Shards = append(d.Shards, sh)
		}
		if sd.LastEvaluatedShardId == nil {
			return d, nil
		}
		in = &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn), ExclusiveStartShardId: sd.LastEvaluatedShardId}
	}
}

// Batch is the records of one GetRecords call, in shard order, stamped.
type Batch struct {
	Records []Record
	// Last is the sequence number of the last record: the checkpoint once
	// the batch is applied.
	Last string
	// Stamp is the stamper's state after the batch: save it with Last.
	Stamp Stamp
}

// ReadShard reads one shard from just after sequence number after (or
// from TRIM_HORIZON when after is ""), stamping records from st on, and
// hands each non-empty batch to fn in order; fn's error stops the read and
// is returned. ReadShard returns the final Stamp and nil once the shard is
// closed and read to its end, or ctx's error. Transient errors are retried
// with backoff; an expired iterator is re-created at the last batch fn
// accepted; a position trimmed away (the reader was down longer than the
// stream's 24 h retention) restarts at TRIM_HORIZON with an error logged,
// as those changes are lost to the stream.
func (r *Reader) ReadShard(ctx context.Context, s Stream, shard, after string, st Stamp, fn func(context.Context, Batch) error) (Stamp, error) {
	r.defaults()
	log := r.Logger.With("stream", s.ARN, "shard", shard)
	iter, err := r.iterator(ctx, s.ARN, shard, after, log)
	if err != nil {
		return st, err
	}
	backoff := streamproc.NewBackoff()
	for {
		out, err := r.Client.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(r.BatchLimit)})
		if err != nil {
			if ctx.Err() != nil {
				return st, ctx.Err()
			}
			var (
				expired *types.ExpiredIteratorException
				trimmed *types.TrimmedDataAccessException
				gone    *types.ResourceNotFoundException
			)
			switch {
			case errors.As(err, &expired):
			case errors.As(err, &trimmed) && after == "":
				// DynamoDB Local answers so when a TRIM_HORIZON iterator of a
				// shard that was still empty is used after other tables'
				// writes moved its global sequence counter on: a fresh
				// TRIM_HORIZON iterator reads the shard from its start.
				log.Debug("TRIM_HORIZON iterator trimmed; taking a new one")
			case errors.As(err, &trimmed):
				log.Error("checkpoint trimmed from the stream: changes were lost, restarting at TRIM_HORIZON", "after", after)
				after = ""
			case errors.As(err, &gone):
				return st, err
			default:
				log.Warn("GetRecords failed", "err", err)
				if err := backoff.Wait(ctx); err != nil {
					return st, err
				}
			}
			if iter, err = r.iterator(ctx, s.ARN, shard, after, log); err != nil {
				return st, err
			}
			continue
		}
		backoff.Reset()
		if n := len(out.Records); n > 0 {
			b := Batch{Records: make([]Record, n)}
			next := st
			for i, rec := range out.Records {
				cr := Convert(rec, s.Table)
				if cr.Change != nil {
					cr.Change.Version = next.Next(cr.Change.Version, s.Resolution)
				}
				b.Records[i] = cr
			}
			b.Last, b.Stamp = b.Records[n-1].Seq, next
			if r.Behind != nil {
				if last := b.Records[n-1]; last.Time > 0 {
					r.Behind(s.ARN, shard, max(0, time.Now().UnixMilli()-int64(last.Time/1000)))
				}
			}
			if err := fn(ctx, b); err != nil {
				return st, err
			}
			after, st = b.Last, next
		} else if r.Behind != nil {
			r.Behind(s.ARN, shard, 0)
		}
		if out.NextShardIterator == nil {
			return st, nil
		}
		iter = out.NextShardIterator
		if len(out.Records) == 0 {
			select {
			case <-time.After(r.Idle):
			case <-ctx.Done():
				return st, ctx.Err()
			}
		}
	}
}

// iterator positions a shard after a sequence number, or at TRIM_HORIZON
// when there is none: a consumer started before the backfill must see
// every change the stream still holds (README: order of operations).
func (r *Reader) iterator(ctx context.Context, arn, shard, after string, log *slog.Logger) (*string, error) {
	in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn), ShardId: aws.String(shard),
		ShardIteratorType: types.ShardIteratorTypeTrimHorizon}
	if after != "" {
		in.ShardIteratorType = types.ShardIteratorTypeAfterSequenceNumber
		in.SequenceNumber = aws.String(after)
	}
	b := streamproc.NewBackoff()
	for {
		out, err := r.Client.GetShardIterator(ctx, in)
		if err == nil {
			return out.ShardIterator, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var (
			trimmed *types.TrimmedDataAccessException
			gone    *types.ResourceNotFoundException
		)
		switch {
		case errors.As(err, &trimmed) && after != "":
			log.Error("checkpoint trimmed from the stream: changes were lost, restarting at TRIM_HORIZON", "after", after)
			in.ShardIteratorType, in.SequenceNumber = types.ShardIteratorTypeTrimHorizon, nil
			continue
		case errors.As(err, &gone):
			return nil, err
		}
		log.Warn("GetShardIterator failed", "err", err)
		if err := b.Wait(ctx); err != nil {
			return nil, err
		}
	}
}

package kdsgen

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/dualread/dualread/internal/testenv"
)

// Stream is a kinesalite stream records are published to. It remembers the
// highest sequence number put on each shard, which is what a consumer must
// have checkpointed to be caught up.
type Stream struct {
	Client *kinesis.Client
	Name   string
	mu     sync.Mutex
	last   map[string]*big.Int
}

// KinesisClient returns a Kinesis client for endpoint with the test
// credentials.
func KinesisClient(endpoint string) *kinesis.Client {
	return kinesis.New(kinesis.Options{Region: testenv.Region, BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(testenv.AccessKeyID, testenv.SecretAccessKey, "")})
}

// NewStream creates the stream with the given shards on the kinesalite at
// endpoint and waits until it is active.
func NewStream(ctx context.Context, endpoint, name string, shards int32) (*Stream, error) {
	s := &Stream{Client: KinesisClient(endpoint), Name: name, last: map[string]*big.Int{}}
	if _, err := s.Client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(shards)}); err != nil {
		return nil, err
	}
	return s, s.WaitActive(ctx)
}

// WaitActive waits up to 30 s for the stream to be ACTIVE.
func (s *Stream) WaitActive(ctx context.Context) error {
	_, err := kinesis.NewStreamExistsWaiter(s.Client, func(o *kinesis.StreamExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 200*time.Millisecond
	}).WaitForOutput(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(s.Name)}, 30*time.Second)
	return err
}

// publishChunk is records per PutRecords (Kinesis allows 500).
const publishChunk = 500

// publishers is how many PutRecords calls are in flight at once:
// kinesalite answers about twice as many records per second with 4 than
// with 1. Concurrent calls interleave their records on a shard, which is
// more of the reordering KDS is allowed anyway; each chunk keeps its order.
const publishers = 4

// Publish puts the records, in chunks of 500 sent by 4 concurrent callers.
// Records kinesalite refuses (FailedRecordCount) are sent again.
func (s *Stream) Publish(ctx context.Context, ps []Pub) error {
	chunks := make(chan []Pub)
	errs := make([]error, publishers)
	var wg sync.WaitGroup
	for i := range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range chunks {
				if errs[i] == nil {
					errs[i] = s.put(ctx, c)
				}
			}
		}()
	}
	for len(ps) > 0 {
		n := min(len(ps), publishChunk)
		chunks <- ps[:n]
		ps = ps[n:]
	}
	close(chunks)
	wg.Wait()
	return errors.Join(errs...)
}

func (s *Stream) put(ctx context.Context, ps []Pub) error {
	for attempt := 0; len(ps) > 0; attempt++ {
		if attempt == 10 {
			return fmt.Errorf("PutRecords: %d records still refused after %d attempts", len(ps), attempt)
		}
		entries := make([]types.PutRecordsRequestEntry, len(ps))
		for i, p := range ps {
			entries[i] = types.PutRecordsRequestEntry{Data: p.Data, PartitionKey: aws.String(p.PartitionKey)}
		}
		out, err := s.Client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(s.Name), Records: entries})
		if err != nil {
			return fmt.Errorf("PutRecords: %w", err)
		}
		var retry []Pub
		s.mu.Lock()
		for i, r := range out.Records {
			if r.ErrorCode != nil {
				retry = append(retry, ps[i])
				continue
			}
			seq, ok := new(big.Int).SetString(aws.ToString(r.SequenceNumber), 10)
			if !ok {
				s.mu.Unlock()
				return fmt.Errorf("PutRecords: sequence number %q", aws.ToString(r.SequenceNumber))
			}
			if cur := s.last[aws.ToString(r.ShardId)]; cur == nil || seq.Cmp(cur) > 0 {
				s.last[aws.ToString(r.ShardId)] = seq
			}
		}
		s.mu.Unlock()
		ps = retry
		if len(ps) > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt+1) * 50 * time.Millisecond):
			}
		}
	}
	return nil
}

// Last returns, per shard that received records, the highest sequence
// number published to it.
func (s *Stream) Last() map[string]*big.Int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]*big.Int, len(s.last))
	for k, v := range s.last {
		out[k] = new(big.Int).Set(v)
	}
	return out
}

// Split splits the first open shard at the middle of its hash range and
// waits until the stream is active again. It returns the parent's id.
func (s *Stream) Split(ctx context.Context) (string, error) {
	out, err := s.Client.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(s.Name)})
	if err != nil {
		return "", err
	}
	var sh *types.Shard
	for i := range out.Shards {
		if out.Shards[i].SequenceNumberRange.EndingSequenceNumber == nil {
			sh = &out.Shards[i]
			break
		}
	}
	if sh == nil {
		return "", fmt.Errorf("stream %s has no open shard", s.Name)
	}
	lo, _ := new(big.Int).SetString(aws.ToString(sh.HashKeyRange.StartingHashKey), 10)
	hi, _ := new(big.Int).SetString(aws.ToString(sh.HashKeyRange.EndingHashKey), 10)
	mid := new(big.Int).Rsh(new(big.Int).Add(lo, hi), 1)
	if _, err := s.Client.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String(s.Name), ShardToSplit: sh.ShardId,
		NewStartingHashKey: aws.String(mid.String())}); err != nil {
		return "", err
	}
	return aws.ToString(sh.ShardId), s.WaitActive(ctx)
}

// Shards lists the stream's shards (open and closed).
func (s *Stream) Shards(ctx context.Context) ([]types.Shard, error) {
	out, err := s.Client.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(s.Name)})
	if err != nil {
		return nil, err
	}
	return out.Shards, nil
}

package replication

import (
	"context"
	"math/big"
	"testing"

	"github.com/dualread/dualread/internal/kdsgen"
	"github.com/dualread/dualread/streamproc/kinesis"
)

// The writes and their KDS records come from internal/kdsgen, the generator
// streamproc/kinesis's in-process end-to-end test uses too.

const hashSchema = `"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"`

func newStream(t *testing.T, ctx context.Context, ep, name string, shards int32) *kdsgen.Stream {
	t.Helper()
	s, err := kdsgen.NewStream(ctx, ep, name, shards)
	if err != nil {
		t.Fatalf("create stream %s: %v", name, err)
	}
	return s
}

func publish(t *testing.T, ctx context.Context, s *kdsgen.Stream, ps []kdsgen.Pub) {
	t.Helper()
	if err := s.Publish(ctx, ps); err != nil {
		t.Fatal(err)
	}
}

func split(t *testing.T, ctx context.Context, s *kdsgen.Stream) {
	t.Helper()
	if _, err := s.Split(ctx); err != nil {
		t.Fatalf("split: %v", err)
	}
}

// behindOf counts the shards that received records but are not yet
// checkpointed to their last record (or SHARD_END), given the lease rows.
func behindOf(last map[string]*big.Int, ls map[string]kinesis.Lease) int {
	n := 0
	for shard, seq := range last {
		l, ok := ls[shard]
		if !ok {
			n++
			continue
		}
		if l.Checkpoint == kinesis.ShardEnd {
			continue
		}
		cp, ok := new(big.Int).SetString(l.Checkpoint, 10)
		if !ok || cp.Cmp(seq) < 0 {
			n++
		}
	}
	return n
}

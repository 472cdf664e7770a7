package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute names of the bench table's items.
const (
	attrPK      = "pk"
	attrSK      = "sk"
	attrPayload = "payload"
	attrCounter = "cnt"
)

// Key k of the key space lives at partition k/ItemsPerPartition, sort key
// k%ItemsPerPartition, so a Query on one partition finds ItemsPerPartition
// items. The fixed width keeps every key the same size.
func partitionKey(p int) string { return "p" + pad(p, 7) }
func sortKey(s int) string      { return "s" + pad(s, 5) }

func pad(n, width int) string {
	s := strconv.Itoa(n)
	for len(s) < width {
		s = "0" + s
	}
	return s
}

// payload is n bytes of printable text; its content does not matter, only
// that it is not trivially empty.
func payload(n int) []byte {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[(i*7+i/len(alphabet))%len(alphabet)]
	}
	return b
}

// workload issues the operations of one worker. Each worker has its own
// random source so no lock is shared between workers.
type workload struct {
	client  *dynamodb.Client
	cfg     Config
	rng     *rand.Rand
	ops     []string // operations with a positive weight
	cum     []int    // cumulative weights, parallel to ops
	total   int
	payload types.AttributeValue
	parts   int // number of partition keys
	// raw, when set, performs the operations directly on a backend instead
	// of through client (RunRaw); rawValue is the value it writes.
	raw      RawClient
	rawValue []byte
}

func newWorkload(client *dynamodb.Client, cfg Config, worker int) *workload {
	w := &workload{
		client:  client,
		cfg:     cfg,
		rng:     rand.New(rand.NewPCG(cfg.Seed, uint64(worker)+1)),
		payload: &types.AttributeValueMemberS{Value: string(payload(cfg.ItemSize))},
		parts:   (cfg.Keys + cfg.ItemsPerPartition - 1) / cfg.ItemsPerPartition,
	}
	for _, op := range Operations { // fixed order: the same seed picks the same sequence
		if wt := cfg.Mix[op]; wt > 0 {
			w.total += wt
			w.ops = append(w.ops, op)
			w.cum = append(w.cum, w.total)
		}
	}
	return w
}

// pick draws an operation with probability proportional to its weight.
func (w *workload) pick() string {
	n := w.rng.IntN(w.total)
	for i, c := range w.cum {
		if n < c {
			return w.ops[i]
		}
	}
	return w.ops[len(w.ops)-1]
}

func (w *workload) randomKey() map[string]types.AttributeValue {
	k := w.rng.IntN(w.cfg.Keys)
	return itemKey(k, w.cfg.ItemsPerPartition)
}

func itemKey(k, perPartition int) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: partitionKey(k / perPartition)},
		attrSK: &types.AttributeValueMemberS{Value: sortKey(k % perPartition)},
	}
}

// do issues one request of operation op.
func (w *workload) do(ctx context.Context, op string) error {
	if w.raw != nil {
		return w.doRaw(ctx, op)
	}
	table := aws.String(w.cfg.Table)
	var err error
	switch op {
	case OpGetItem:
		_, err = w.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: table, Key: w.randomKey()})
	case OpPutItem:
		item := w.randomKey()
		item[attrPayload] = w.payload
		_, err = w.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, Item: item})
	case OpUpdateItem:
		// A read-modify-write on the server: the path conditional writes
		// and counters take.
		_, err = w.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 table,
			Key:                       w.randomKey(),
			UpdateExpression:          aws.String("SET #c = if_not_exists(#c, :zero) + :one"),
			ExpressionAttributeNames:  map[string]string{"#c": attrCounter},
			ExpressionAttributeValues: map[string]types.AttributeValue{":zero": &types.AttributeValueMemberN{Value: "0"}, ":one": &types.AttributeValueMemberN{Value: "1"}},
		})
	case OpQuery:
		_, err = w.client.Query(ctx, &dynamodb.QueryInput{
			TableName:                 table,
			KeyConditionExpression:    aws.String("#p = :p"),
			ExpressionAttributeNames:  map[string]string{"#p": attrPK},
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: partitionKey(w.rng.IntN(w.parts))}},
			Limit:                     aws.Int32(int32(w.cfg.QueryLimit)),
		})
	case OpScan:
		// From the table's start: a full Scan would make the op's cost
		// depend on Keys; a Limit keeps it one page like a paginated reader.
		_, err = w.client.Scan(ctx, &dynamodb.ScanInput{TableName: table, Limit: aws.Int32(int32(w.cfg.ScanLimit))})
	case OpBatchGetItem:
		// Up to 10 distinct keys: BatchGetItem rejects duplicates.
		n := min(10, w.cfg.Keys)
		seen := make(map[int]bool, n)
		keys := make([]map[string]types.AttributeValue, 0, n)
		for len(keys) < n {
			k := w.rng.IntN(w.cfg.Keys)
			if !seen[k] {
				seen[k] = true
				keys = append(keys, itemKey(k, w.cfg.ItemsPerPartition))
			}
		}
		_, err = w.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
			RequestItems: map[string]types.KeysAndAttributes{w.cfg.Table: {Keys: keys}},
		})
	default:
		err = fmt.Errorf("bench: unknown operation %q", op)
	}
	return err
}

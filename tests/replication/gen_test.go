package replication

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/dualread/dualread/adapter/attr"
	"github.com/dualread/dualread/internal/testenv"
	"github.com/dualread/dualread/streamproc/kinesis"
)

// The record shape and the generator follow streamproc/kinesis/e2e_test.go
// (copied: test helpers of another package cannot be imported).

const hashSchema = `"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"`

// kdsRecord is what Kinesis Data Streams for DynamoDB writes for a change.
func kdsRecord(table, event string, keys, newImg, oldImg attr.Item, micros int64, milli bool) []byte {
	ts, prec := micros, "MICROSECOND"
	if milli {
		ts, prec = micros/1000, "MILLISECOND"
	}
	d := map[string]any{"ApproximateCreationDateTime": ts, "ApproximateCreationDateTimePrecision": prec,
		"Keys": keys, "SizeBytes": 100}
	if newImg != nil {
		d["NewImage"] = newImg
	}
	if oldImg != nil {
		d["OldImage"] = oldImg
	}
	b, _ := json.Marshal(map[string]any{"awsRegion": "us-east-1", "eventID": fmt.Sprint(micros), "eventName": event,
		"eventSource": "aws:dynamodb", "recordFormat": "application/json", "tableName": table, "userIdentity": nil, "dynamodb": d})
	return b
}

type pub struct {
	pk   string
	data []byte
}

// generate makes n random writes on DynamoDB Local (40% puts, 40% updates,
// 20% deletes over keys items, from 4 goroutines owning disjoint keys) and
// returns the matching KDS records, in change order per item. Change times
// come from one synthetic clock advancing 1 ms per write, so both
// precisions (chosen at random per record) give distinct versions per item.
func generate(t *testing.T, ctx context.Context, ddb *testenv.RawClient, table string, n, keys int, seed uint64) []pub {
	var clock atomic.Int64
	clock.Store(time.Now().Add(-time.Hour).UnixMicro())
	var mu sync.Mutex
	var out []pub
	var wg sync.WaitGroup
	const gens = 4
	errs := make(chan error, gens)
	for g := range gens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(seed, uint64(g)))
			do := func(op, body string) (ddbResp, error) {
				resp, err := ddb.Do(ctx, op, []byte(body))
				if err != nil || resp.Status != 200 {
					return ddbResp{}, fmt.Errorf("%s: %v %d %s", op, err, resp.Status, resp.Body)
				}
				var r ddbResp
				return r, json.Unmarshal(resp.Body, &r)
			}
			for i := range n / gens {
				k := fmt.Sprintf("k%04d", g+gens*rnd.IntN(max(keys/gens, 1)))
				key := attr.Item{"pk": attr.Str(k)}
				keyJSON := string(key.AppendJSON(nil))
				var event string
				var newImg, oldImg attr.Item
				switch op := rnd.IntN(10); {
				case op < 4: // put
					item := attr.Item{"pk": attr.Str(k), "s": attr.Str(fmt.Sprintf("v%d-%d", g, i)),
						"tags": attr.StrSet([]string{"a", fmt.Sprint("t", rnd.IntN(5))})}
					if rnd.IntN(2) == 0 {
						item["m"] = attr.Map(map[string]attr.Value{"x": attr.List([]attr.Value{attr.Bool(true), attr.Null()})})
					}
					resp, err := do("PutItem", fmt.Sprintf(`{"TableName":%q,"Item":%s,"ReturnValues":"ALL_OLD"}`, table, item.AppendJSON(nil)))
					if err != nil {
						errs <- err
						return
					}
					oldImg, newImg = resp.Attributes, item
					event = "INSERT"
					if oldImg != nil {
						event = "MODIFY"
					}
				case op < 8: // update
					resp, err := do("UpdateItem", fmt.Sprintf(`{"TableName":%q,"Key":%s,"UpdateExpression":"ADD n :one SET u = :u","ExpressionAttributeValues":{":one":{"N":"1"},":u":{"N":"%d.5"}},"ReturnValues":"ALL_NEW"}`, table, keyJSON, i))
					if err != nil {
						errs <- err
						return
					}
					newImg, event = resp.Attributes, "MODIFY"
				default: // delete
					resp, err := do("DeleteItem", fmt.Sprintf(`{"TableName":%q,"Key":%s,"ReturnValues":"ALL_OLD"}`, table, keyJSON))
					if err != nil {
						errs <- err
						return
					}
					if resp.Attributes == nil {
						continue // deleting nothing emits no record in DynamoDB either
					}
					oldImg, event = resp.Attributes, "REMOVE"
				}
				ts := clock.Add(1000)
				rec := kdsRecord(table, event, key, newImg, oldImg, ts, rnd.IntN(2) == 0)
				mu.Lock()
				out = append(out, pub{k, rec})
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return out
}

// disorder returns the records with out-of-order delivery (each record
// moved up to 8 places, then a second pass moving a quarter of them up to
// 16 places) and ~10% duplicates (a second copy, moved away from its twin).
func disorder(in []pub, rnd *rand.Rand) []pub {
	out := append([]pub(nil), in...)
	for i := range out {
		j := min(len(out)-1, i+rnd.IntN(9))
		out[i], out[j] = out[j], out[i]
	}
	var res []pub
	for _, p := range out {
		res = append(res, p)
		if rnd.IntN(10) == 0 {
			res = append(res, p)
		}
	}
	for i := range res {
		if rnd.IntN(4) == 0 {
			j := min(len(res)-1, i+rnd.IntN(16))
			res[i], res[j] = res[j], res[i]
		}
	}
	return res
}

// stream is a kinesalite stream the test publishes to, remembering the
// highest sequence number put on each shard.
type stream struct {
	kc   *awskinesis.Client
	name string
	mu   sync.Mutex
	last map[string]*big.Int
}

func newStream(t *testing.T, ctx context.Context, ep, name string, shards int32) *stream {
	t.Helper()
	kc := awskinesis.New(awskinesis.Options{Region: testenv.Region, BaseEndpoint: aws.String(ep),
		Credentials: credentials.NewStaticCredentialsProvider(testenv.AccessKeyID, testenv.SecretAccessKey, "")})
	if _, err := kc.CreateStream(ctx, &awskinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(shards)}); err != nil {
		t.Fatal(err)
	}
	s := &stream{kc: kc, name: name, last: map[string]*big.Int{}}
	s.waitActive(t, ctx)
	return s
}

func (s *stream) waitActive(t *testing.T, ctx context.Context) {
	t.Helper()
	_, err := awskinesis.NewStreamExistsWaiter(s.kc, func(o *awskinesis.StreamExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 200*time.Millisecond
	}).WaitForOutput(ctx, &awskinesis.DescribeStreamInput{StreamName: aws.String(s.name)}, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
}

// publish puts the records in order, 250 per PutRecords.
func (s *stream) publish(t *testing.T, ctx context.Context, ps []pub) {
	t.Helper()
	for len(ps) > 0 {
		n := min(len(ps), 250)
		var entries []types.PutRecordsRequestEntry
		for _, p := range ps[:n] {
			entries = append(entries, types.PutRecordsRequestEntry{Data: p.data, PartitionKey: aws.String(p.pk)})
		}
		out, err := s.kc.PutRecords(ctx, &awskinesis.PutRecordsInput{StreamName: aws.String(s.name), Records: entries})
		if err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
			t.Fatalf("PutRecords: %v", err)
		}
		s.mu.Lock()
		for _, r := range out.Records {
			seq, _ := new(big.Int).SetString(aws.ToString(r.SequenceNumber), 10)
			if cur := s.last[aws.ToString(r.ShardId)]; cur == nil || seq.Cmp(cur) > 0 {
				s.last[aws.ToString(r.ShardId)] = seq
			}
		}
		s.mu.Unlock()
		ps = ps[n:]
	}
}

// split splits the first open shard at the middle of its hash range.
func (s *stream) split(t *testing.T, ctx context.Context) {
	t.Helper()
	out, err := s.kc.ListShards(ctx, &awskinesis.ListShardsInput{StreamName: aws.String(s.name)})
	if err != nil {
		t.Fatal(err)
	}
	var sh *types.Shard
	for i := range out.Shards {
		if out.Shards[i].SequenceNumberRange.EndingSequenceNumber == nil {
			sh = &out.Shards[i]
			break
		}
	}
	lo, _ := new(big.Int).SetString(aws.ToString(sh.HashKeyRange.StartingHashKey), 10)
	hi, _ := new(big.Int).SetString(aws.ToString(sh.HashKeyRange.EndingHashKey), 10)
	mid := new(big.Int).Rsh(new(big.Int).Add(lo, hi), 1)
	if _, err := s.kc.SplitShard(ctx, &awskinesis.SplitShardInput{StreamName: aws.String(s.name), ShardToSplit: sh.ShardId,
		NewStartingHashKey: aws.String(mid.String())}); err != nil {
		t.Fatal(err)
	}
	s.waitActive(t, ctx)
}

// behind reports how many shards that received records are not yet
// checkpointed to their last record (or SHARD_END), given the lease rows.
func (s *stream) behind(ls map[string]kinesis.Lease) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for shard, seq := range s.last {
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

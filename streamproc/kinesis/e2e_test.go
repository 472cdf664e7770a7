package kinesis

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/dualread/dualread/adapter/attr"
	"github.com/dualread/dualread/adapter/dynamo"
	"github.com/dualread/dualread/adapter/store/btstore"
	"github.com/dualread/dualread/internal/testenv"
	"github.com/dualread/dualread/streamproc"
	"github.com/dualread/dualread/streamproc/metrics"
)

var (
	flagWrites = flag.Int("streamproc.writes", 3000, "random writes the end-to-end test makes to DynamoDB Local")
	flagKeys   = flag.Int("streamproc.keys", 60, "size of the key space the writes go to")
)

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

// generate makes n random writes on DynamoDB Local (puts, updates,
// deletes over a small key space, from 4 goroutines owning disjoint keys)
// and returns the matching KDS records in change order per item. Change
// times come from one synthetic clock that advances 1 ms per write, so
// both precisions give distinct versions per item.
func generate(t *testing.T, ctx context.Context, ddb *testenv.RawClient, table string, n, keys int) []pub {
	var clock atomic.Int64
	clock.Store(time.Now().Add(-time.Hour).UnixMicro())
	var mu sync.Mutex
	var out []pub
	var wg sync.WaitGroup
	const gens = 4
	for g := range gens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(g), 42))
			for i := range n / gens {
				k := fmt.Sprintf("k%03d", g+gens*rnd.IntN(keys/gens))
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
					resp := call(t, ctx, ddb, "PutItem", fmt.Sprintf(`{"TableName":%q,"Item":%s,"ReturnValues":"ALL_OLD"}`, table, item.AppendJSON(nil)))
					oldImg, newImg = resp.Attributes, item
					event = "INSERT"
					if oldImg != nil {
						event = "MODIFY"
					}
				case op < 8: // update
					resp := call(t, ctx, ddb, "UpdateItem", fmt.Sprintf(`{"TableName":%q,"Key":%s,"UpdateExpression":"ADD n :one SET u = :u","ExpressionAttributeValues":{":one":{"N":"1"},":u":{"N":"%d.5"}},"ReturnValues":"ALL_NEW"}`, table, keyJSON, i))
					newImg, event = resp.Attributes, "MODIFY"
				default: // delete
					resp := call(t, ctx, ddb, "DeleteItem", fmt.Sprintf(`{"TableName":%q,"Key":%s,"ReturnValues":"ALL_OLD"}`, table, keyJSON))
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
	return out
}

type ddbResp struct {
	Attributes       attr.Item   `json:"Attributes"`
	Items            []attr.Item `json:"Items"`
	LastEvaluatedKey attr.Item   `json:"LastEvaluatedKey"`
}

func call(t *testing.T, ctx context.Context, ddb *testenv.RawClient, op, body string) ddbResp {
	resp, err := ddb.Do(ctx, op, []byte(body))
	if err != nil || resp.Status != 200 {
		t.Errorf("%s: %v %d %s", op, err, resp.Status, resp.Body)
		return ddbResp{}
	}
	var r ddbResp
	if err := json.Unmarshal(resp.Body, &r); err != nil {
		t.Errorf("%s answer: %v", op, err)
	}
	return r
}

// scanAll returns every item of a table by its key, as canonical JSON.
func scanAll(t *testing.T, do func(op, body string) ddbResp, table string) map[string]string {
	out := map[string]string{}
	var esk attr.Item
	for {
		body := fmt.Sprintf(`{"TableName":%q}`, table)
		if esk != nil {
			body = fmt.Sprintf(`{"TableName":%q,"ExclusiveStartKey":%s}`, table, esk.AppendJSON(nil))
		}
		r := do("Scan", body)
		for _, it := range r.Items {
			out[string(attr.Item{"pk": it["pk"]}.AppendJSON(nil))] = string(it.AppendJSON(nil))
		}
		if r.LastEvaluatedKey == nil {
			return out
		}
		esk = r.LastEvaluatedKey
	}
}

func compareTables(t *testing.T, want, got map[string]string) {
	t.Helper()
	bad := 0
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			bad++
			if bad <= 5 {
				t.Errorf("item %s: target %q, DynamoDB Local %q", k, g, w)
			}
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			bad++
			if bad <= 5 {
				t.Errorf("item %s resurrected or invented in target: %s", k, g)
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d items differ", bad, len(want))
	}
}

func kinesisClient(ep string) *kinesis.Client {
	return kinesis.New(kinesis.Options{Region: testenv.Region, BaseEndpoint: aws.String(ep),
		Credentials: credentials.NewStaticCredentialsProvider(testenv.AccessKeyID, testenv.SecretAccessKey, "")})
}

// disorder returns the records with out-of-order delivery (each record
// moved up to 8 places) and ~10% duplicates (a second copy a little later).
func disorder(in []pub, rnd *rand.Rand) []pub {
	out := append([]pub(nil), in...)
	for i := range out {
		j := min(len(out)-1, i+rnd.IntN(9))
		out[i], out[j] = out[j], out[i]
	}
	var res []pub
	for i, p := range out {
		res = append(res, p)
		_ = i
		if rnd.IntN(10) == 0 {
			res = append(res, p) // duplicate, moved away from its twin below
		}
	}
	// Another reordering pass, which also separates duplicates.
	for i := range res {
		if rnd.IntN(4) == 0 {
			j := min(len(res)-1, i+rnd.IntN(16))
			res[i], res[j] = res[j], res[i]
		}
	}
	return res
}

// TestEndToEnd is the replication proof at test size: random writes on
// DynamoDB Local, their KDS records published to kinesalite with
// duplicates and out-of-order delivery, a shard split in the middle, and
// consumers that share shards, are killed hard (context cancelled, leases
// not released) and replaced. At the end the target must equal DynamoDB
// Local item for item, every shard checkpointed to its last record, and
// no child shard started before its parents ended.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("needs DynamoDB Local and kinesalite")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	kep := testenv.StartKinesalite(t)
	ddb := testenv.NewRawClient(testenv.StartDynamoDBLocal(t))
	table := fmt.Sprintf("sp_e2e_%d", time.Now().UnixNano())
	schema := `"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"`
	call(t, ctx, ddb, "CreateTable", fmt.Sprintf(`{"TableName":%q,%s}`, table, schema))
	defer call(t, context.Background(), ddb, "DeleteTable", fmt.Sprintf(`{"TableName":%q}`, table))

	st, err := btstore.NewEmbedded(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ex, err := dynamo.New(ctx, st, dynamo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ex.Do(ctx, "CreateTable", []byte(fmt.Sprintf(`{"TableName":%q,%s}`, table, schema))); err != nil {
		t.Fatal(err)
	}

	kc := kinesisClient(kep)
	stream := "sp-e2e"
	if _, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(stream), ShardCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	waitActive(t, ctx, kc, stream)

	t0 := time.Now()
	recs := generate(t, ctx, ddb, table, *flagWrites, *flagKeys)
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("generated %d records in %v", len(recs), time.Since(t0))
	pubs := disorder(recs, rand.New(rand.NewPCG(7, 7)))

	dl, err := streamproc.NewDeadLetters(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	rec := metrics.New(nil)
	applier, err := streamproc.NewApplier(streamproc.Config{Target: ex, DeadLetter: dl, Metrics: rec, Source: "kinesis"})
	if err != nil {
		t.Fatal(err)
	}
	defer applier.Close()

	var traceMu sync.Mutex
	var trace []string
	newConsumer := func(name string) (*Consumer, context.CancelFunc, chan struct{}) {
		c, err := New(ctx, Config{Client: kc, Stream: stream, Store: st, Applier: applier, Metrics: rec, Owner: name,
			LeaseDuration: 3 * time.Second, Tick: 400 * time.Millisecond, Idle: 100 * time.Millisecond, BatchLimit: 200,
			Trace: func(ev, shard string) {
				traceMu.Lock()
				trace = append(trace, ev+" "+shard+" "+name)
				traceMu.Unlock()
			}})
		if err != nil {
			t.Fatal(err)
		}
		cctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); c.Run(cctx) }()
		return c, stop, done
	}

	last := map[string]*big.Int{} // shard → highest sequence number published
	publish := func(ps []pub) {
		for len(ps) > 0 {
			n := min(len(ps), 250)
			var entries []types.PutRecordsRequestEntry
			for _, p := range ps[:n] {
				entries = append(entries, types.PutRecordsRequestEntry{Data: p.data, PartitionKey: aws.String(p.pk)})
			}
			out, err := kc.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: entries})
			if err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
				t.Fatalf("PutRecords: %v", err)
			}
			for _, r := range out.Records {
				s, _ := new(big.Int).SetString(aws.ToString(r.SequenceNumber), 10)
				if cur := last[aws.ToString(r.ShardId)]; cur == nil || s.Cmp(cur) > 0 {
					last[aws.ToString(r.ShardId)] = s
				}
			}
			ps = ps[n:]
		}
	}

	q := len(pubs) / 4
	// Phase 1: two instances share the two shards.
	a, stopA, doneA := newConsumer("A")
	b, stopB, doneB := newConsumer("B")
	publish(pubs[:q])
	waitFor(t, ctx, "A and B share the shards", func() bool { return len(a.Held()) == 1 && len(b.Held()) == 1 })
	// Phase 2: kill A hard mid-stream; B takes its shard over.
	publish(pubs[q : 2*q])
	time.Sleep(150 * time.Millisecond)
	stopA()
	<-doneA
	waitFor(t, ctx, "B takes over A's shard", func() bool { return len(b.Held()) == 2 })
	// Phase 3: split a shard in the middle of the stream; start C.
	splitShard(t, ctx, kc, stream)
	c, stopC, doneC := newConsumer("C")
	publish(pubs[2*q : 3*q])
	time.Sleep(200 * time.Millisecond)
	// Phase 4: kill B hard; C must finish alone.
	stopB()
	<-doneB
	publish(pubs[3*q:])
	waitFor(t, ctx, "every shard checkpointed to its last record", func() bool {
		all, err := (&leases{st: st, stream: stream}).list(ctx)
		if err != nil {
			return false
		}
		for shard, seq := range last {
			l := all[shard]
			if l == nil {
				return false
			}
			if l.Checkpoint == ShardEnd {
				continue
			}
			cp, ok := new(big.Int).SetString(l.Checkpoint, 10)
			if !ok || cp.Cmp(seq) < 0 {
				return false
			}
		}
		return true
	})
	_ = c
	// Read the shard list now: kinesalite is not needed after this point.
	shards, err := kc.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatal(err)
	}
	stopC()
	<-doneC

	want := scanAll(t, func(op, body string) ddbResp { return call(t, ctx, ddb, op, body) }, table)
	got := scanAll(t, func(op, body string) ddbResp {
		out, err := ex.Do(ctx, op, []byte(body))
		if err != nil {
			t.Fatalf("target %s: %v", op, err)
		}
		var r ddbResp
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatal(err)
		}
		return r
	}, table)
	compareTables(t, want, got)
	if letters, _ := dl.List(ctx, 0); len(letters) != 0 {
		t.Errorf("%d dead letters, first %+v", len(letters), letters[0])
	}
	checkLineage(t, trace, shards.Shards)
	var applied, stale, dup int64
	for _, p := range rec.Flush() {
		if p.Measurement == metrics.MeasurementReplication {
			applied += p.Fields["applied"].(int64)
			stale += p.Fields["stale"].(int64)
			dup += p.Fields["duplicate"].(int64)
		}
	}
	t.Logf("%d records (%d published with injected duplicates): applied %d, stale %d, duplicate %d; %d items; %v",
		len(recs), len(pubs), applied, stale, dup, len(want), time.Since(t0))
	if applied+stale+dup < int64(len(pubs)) || dup == 0 || stale == 0 {
		t.Errorf("outcome counts do not account for the published records")
	}
}

func waitActive(t *testing.T, ctx context.Context, kc *kinesis.Client, stream string) {
	t.Helper()
	_, err := kinesis.NewStreamExistsWaiter(kc, func(o *kinesis.StreamExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 200*time.Millisecond
	}).WaitForOutput(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(stream)}, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for !cond() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// splitShard splits the first open shard at the middle of its hash range.
func splitShard(t *testing.T, ctx context.Context, kc *kinesis.Client, stream string) {
	t.Helper()
	out, err := kc.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatal(err)
	}
	s := out.Shards[0]
	lo, _ := new(big.Int).SetString(aws.ToString(s.HashKeyRange.StartingHashKey), 10)
	hi, _ := new(big.Int).SetString(aws.ToString(s.HashKeyRange.EndingHashKey), 10)
	mid := new(big.Int).Rsh(new(big.Int).Add(lo, hi), 1)
	if _, err := kc.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String(stream), ShardToSplit: s.ShardId,
		NewStartingHashKey: aws.String(mid.String())}); err != nil {
		t.Fatal(err)
	}
	waitActive(t, ctx, kc, stream)
}

// checkLineage: every child shard was started only after all its parents
// had ended, and children were indeed read.
func checkLineage(t *testing.T, trace []string, shards []types.Shard) {
	t.Helper()
	pos := func(prefix string) int {
		for i, e := range trace {
			if strings.HasPrefix(e, prefix) {
				return i
			}
		}
		return -1
	}
	children := 0
	for _, s := range shards {
		if s.ParentShardId == nil {
			continue
		}
		children++
		start := pos("start " + aws.ToString(s.ShardId) + " ")
		end := pos("end " + aws.ToString(s.ParentShardId) + " ")
		if start < 0 || end < 0 || start < end {
			t.Errorf("child %s started at %d, parent %s ended at %d: %v", aws.ToString(s.ShardId), start, aws.ToString(s.ParentShardId), end, trace)
		}
	}
	if children != 2 {
		t.Errorf("%d child shards, want 2", children)
	}
}

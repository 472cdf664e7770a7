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
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/dualread/dualread/adapter/attr"
	"github.com/dualread/dualread/adapter/dynamo"
	"github.com/dualread/dualread/adapter/store/btstore"
	"github.com/dualread/dualread/internal/kdsgen"
	"github.com/dualread/dualread/internal/testenv"
	"github.com/dualread/dualread/streamproc"
	"github.com/dualread/dualread/streamproc/metrics"
)

var (
	flagWrites = flag.Int("streamproc.writes", 3000, "random writes the end-to-end test makes to DynamoDB Local")
	flagKeys   = flag.Int("streamproc.keys", 60, "size of the key space the writes go to")
)

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

	stream := "sp-e2e"
	ks, err := kdsgen.NewStream(ctx, kep, stream, 2)
	if err != nil {
		t.Fatal(err)
	}
	kc := ks.Client

	t0 := time.Now()
	// One request per change, the images from DynamoDB Local's answers
	// (tests/replication uses the batched mode of the same generator).
	res, err := kdsgen.Generate(ctx, kdsgen.Config{DynamoDB: ddb, Tables: []string{table}, Changes: *flagWrites, Keys: *flagKeys, Batch: 1, Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	recs := res.Records
	t.Logf("generated %d records in %v", len(recs), time.Since(t0))
	pubs := kdsgen.Disorder(recs, rand.New(rand.NewPCG(7, 7)))

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

	publish := func(ps []kdsgen.Pub) {
		t.Helper()
		if err := ks.Publish(ctx, ps); err != nil {
			t.Fatal(err)
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
	if _, err := ks.Split(ctx); err != nil {
		t.Fatal(err)
	}
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
		for shard, seq := range ks.Last() {
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

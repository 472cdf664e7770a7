package kdsbridge

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/dualread/dualread/adapter/dynamo"
	"github.com/dualread/dualread/adapter/store/btstore"
	"github.com/dualread/dualread/internal/kdsgen"
	"github.com/dualread/dualread/internal/testenv"
	"github.com/dualread/dualread/streamproc"
	sk "github.com/dualread/dualread/streamproc/kinesis"
	"github.com/dualread/dualread/streamproc/metrics"
	"github.com/dualread/dualread/streamproc/record"
)

const schema = `"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"`

// TestBridge: DynamoDB Local → bridge → kinesalite → the Kinesis consumer
// → target, exact. One table has a stream before the bridge starts, one
// is created later without a stream (the bridge enables it), one is
// created later with a stream; random changes on all three must arrive in
// the target item for item. The Kinesis records are KDS-for-DynamoDB JSON
// under per-item partition keys. A restarted bridge republishes what the
// streams hold, which changes nothing in the target.
func TestBridge(t *testing.T) {
	if testing.Short() {
		t.Skip("needs DynamoDB Local and kinesalite")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ddbEP := testenv.StartDynamoDBLocal(t)
	kep := testenv.StartKinesalite(t)
	ddb := testenv.NewRawClient(ddbEP)
	base := fmt.Sprintf("kb_%d", time.Now().UnixNano())
	tables := []string{base + "_pre", base + "_enabled", base + "_late"}
	create := func(name string, stream bool) {
		t.Helper()
		spec := ""
		if stream {
			spec = `,"StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_AND_OLD_IMAGES"}`
		}
		if r, err := ddb.Do(ctx, "CreateTable", []byte(fmt.Sprintf(`{"TableName":%q,%s%s}`, name, schema, spec))); err != nil || r.Status != 200 {
			t.Fatalf("CreateTable %s: %v %s", name, err, r.Body)
		}
		t.Cleanup(func() { ddb.Do(context.Background(), "DeleteTable", []byte(fmt.Sprintf(`{"TableName":%q}`, name))) })
	}
	create(tables[0], true)

	creds := credentials.NewStaticCredentialsProvider(testenv.AccessKeyID, testenv.SecretAccessKey, "")
	kc := kinesis.New(kinesis.Options{Region: testenv.Region, BaseEndpoint: aws.String(kep), Credentials: creds})
	stream := base
	bridge := func() (context.CancelFunc, chan error, *Stats) {
		bctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		stats := &Stats{}
		go func() {
			done <- Run(bctx, Config{DynamoDB: testenv.Client(ddbEP), Kinesis: kc, Stream: stream, Tables: tables, EnableStreams: true,
				Poll:    100 * time.Millisecond,
				Streams: dynamodbstreams.New(dynamodbstreams.Options{Region: testenv.Region, BaseEndpoint: aws.String(ddbEP), Credentials: creds})}, stats)
		}()
		return stop, done, stats
	}
	stopBridge, bridgeDone, stats := bridge()

	// Target and Kinesis consumer.
	st, err := btstore.NewEmbedded(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ex, err := dynamo.New(ctx, st, dynamo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		if _, err := ex.Do(ctx, "CreateTable", []byte(fmt.Sprintf(`{"TableName":%q,%s}`, tb, schema))); err != nil {
			t.Fatal(err)
		}
	}
	dl, err := streamproc.NewDeadLetters(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	ap, err := streamproc.NewApplier(streamproc.Config{Target: ex, DeadLetter: dl, Metrics: metrics.New(nil), Source: "kinesis"})
	if err != nil {
		t.Fatal(err)
	}
	defer ap.Close()
	waitStream(t, ctx, kc, stream) // the bridge creates it
	cons, err := sk.New(ctx, sk.Config{Client: kc, Stream: stream, Store: st, Applier: ap, LeaseDuration: 3 * time.Second,
		Tick: 300 * time.Millisecond, Idle: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	cctx, stopCons := context.WithCancel(ctx)
	consDone := make(chan struct{})
	go func() { defer close(consDone); cons.Run(cctx) }()
	defer func() { stopCons(); <-consDone }()

	// Tables created while the bridge runs: one without a stream, which
	// the bridge must enable before the writes start (changes made before
	// a stream exists are in no stream), one with a stream.
	create(tables[1], false)
	create(tables[2], true)
	waitFor(t, "the bridge enables the stream", func() bool {
		r, err := ddb.Do(ctx, "DescribeTable", []byte(fmt.Sprintf(`{"TableName":%q}`, tables[1])))
		return err == nil && strings.Contains(string(r.Body), `"StreamEnabled":true`)
	})
	if _, err := kdsgen.Generate(ctx, kdsgen.Config{DynamoDB: ddb, Tables: tables, Changes: 900, Keys: 60, Batch: 8, Seed: 9}); err != nil {
		t.Fatal(err)
	}
	converged := func(what string) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			var d []string
			for _, tb := range tables {
				want := testenv.ScanByPK(t, ddb.ScanVia(ctx), tb)
				got := testenv.ScanByPK(t, func(body string) ([]byte, error) { return ex.Do(ctx, "Scan", []byte(body)) }, tb)
				if s := testenv.DiffByPK(want, got); s != "" {
					d = append(d, tb+": "+s)
				}
			}
			if len(d) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: target never equalled DynamoDB Local:\n%s", what, strings.Join(d, "\n"))
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	converged("first run")
	first := stats.Published.Load()
	if first < 800 || stats.Skipped.Load() != 0 {
		t.Fatalf("published %d, skipped %d", first, stats.Skipped.Load())
	}
	checkRecords(t, ctx, kc, stream, tables)

	// Restart: everything is published again (duplicates downstream).
	stopBridge()
	if err := <-bridgeDone; err != nil {
		t.Fatalf("bridge ended with %v", err)
	}
	_, bridgeDone2, stats2 := bridge()
	waitFor(t, "the restarted bridge republishes the streams", func() bool { return stats2.Published.Load() >= first })
	converged("after the bridge restarted")
	if l, _ := dl.List(ctx, 0); len(l) != 0 {
		t.Fatalf("%d dead letters, first %+v", len(l), l[0])
	}
	cancel()
	if err := <-bridgeDone2; err != nil {
		t.Fatalf("bridge ended with %v", err)
	}
}

// checkRecords reads the Kinesis stream's records and checks their shape:
// the fields KDS for DynamoDB writes, MICROSECOND precision, a partition
// key per item, and per item strictly growing versions on one shard.
func checkRecords(t *testing.T, ctx context.Context, kc *kinesis.Client, stream string, tables []string) {
	t.Helper()
	shards, err := kc.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"awsRegion", "dynamodb", "eventID", "eventName", "eventSource", "recordFormat", "tableName", "userIdentity"}
	shardOf := map[string]string{}
	last := map[string]uint64{}
	n := 0
	for _, s := range shards.Shards {
		it, err := kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(stream), ShardId: s.ShardId, ShardIteratorType: "TRIM_HORIZON"})
		if err != nil {
			t.Fatal(err)
		}
		for iter := it.ShardIterator; iter != nil; {
			out, err := kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Records) == 0 {
				break
			}
			for _, r := range out.Records {
				n++
				var m map[string]json.RawMessage
				if err := json.Unmarshal(r.Data, &m); err != nil {
					t.Fatal(err)
				}
				var keys []string
				for k := range m {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				if strings.Join(keys, ",") != strings.Join(want, ",") || !strings.Contains(string(m["dynamodb"]), `"ApproximateCreationDateTimePrecision":"MICROSECOND"`) {
					t.Fatalf("record fields %v: %s", keys, r.Data)
				}
				c, err := record.DecodeKinesis(r.Data)
				if err != nil {
					t.Fatalf("record does not decode: %v: %s", err, r.Data)
				}
				if pk := PartitionKey(c); aws.ToString(r.PartitionKey) != pk {
					t.Fatalf("partition key %q, want %q", aws.ToString(r.PartitionKey), pk)
				}
				item := c.Table + string(c.Keys.AppendJSON(nil))
				if sh, ok := shardOf[item]; ok && sh != aws.ToString(s.ShardId) {
					t.Fatalf("item %s on shards %s and %s", item, sh, aws.ToString(s.ShardId))
				}
				shardOf[item] = aws.ToString(s.ShardId)
				if c.Version <= last[item] {
					t.Fatalf("item %s: version %d after %d", item, c.Version, last[item])
				}
				last[item] = c.Version
			}
			iter = out.NextShardIterator
		}
	}
	if n < 800 {
		t.Fatalf("only %d Kinesis records", n)
	}
}

func waitStream(t *testing.T, ctx context.Context, kc *kinesis.Client, stream string) {
	t.Helper()
	waitFor(t, "the bridge creates the Kinesis stream", func() bool {
		out, err := kc.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(stream)})
		return err == nil && out.StreamDescription.StreamStatus == "ACTIVE"
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

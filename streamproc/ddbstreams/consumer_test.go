package ddbstreams

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/dualread/dualread/adapter/dynamo"
	"github.com/dualread/dualread/adapter/store"
	"github.com/dualread/dualread/adapter/store/btstore"
	"github.com/dualread/dualread/internal/testenv"
	"github.com/dualread/dualread/streamproc"
	"github.com/dualread/dualread/streamproc/lease"
	"github.com/dualread/dualread/streamproc/metrics"
)

const schema = `"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"`

func streamsClient(ep string) *dynamodbstreams.Client {
	return dynamodbstreams.New(dynamodbstreams.Options{Region: testenv.Region, BaseEndpoint: aws.String(ep),
		Credentials: credentials.NewStaticCredentialsProvider(testenv.AccessKeyID, testenv.SecretAccessKey, "")})
}

// fixture is DynamoDB Local with tables that have streams, and an embedded
// Bigtable target with the same tables.
type fixture struct {
	ddbEP  string
	ddb    *testenv.RawClient
	tables []string
	st     store.Store
	ex     *dynamo.Executor
	dl     *streamproc.DeadLetters
}

func newFixture(t *testing.T, ctx context.Context, prefix string, ntables int) *fixture {
	t.Helper()
	f := &fixture{ddbEP: testenv.StartDynamoDBLocal(t)}
	f.ddb = testenv.NewRawClient(f.ddbEP)
	var err error
	if f.st, err = btstore.NewEmbedded(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.st.Close() })
	if f.ex, err = dynamo.New(ctx, f.st, dynamo.Options{}); err != nil {
		t.Fatal(err)
	}
	if f.dl, err = streamproc.NewDeadLetters(ctx, f.st); err != nil {
		t.Fatal(err)
	}
	for i := range ntables {
		name := fmt.Sprintf("%s_%d_%d", prefix, time.Now().UnixNano(), i)
		f.tables = append(f.tables, name)
		call(t, ctx, f.ddb, "CreateTable", fmt.Sprintf(`{"TableName":%q,%s,"StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_AND_OLD_IMAGES"}}`, name, schema))
		t.Cleanup(func() { f.ddb.Do(context.Background(), "DeleteTable", []byte(fmt.Sprintf(`{"TableName":%q}`, name))) })
		if _, err := f.ex.Do(ctx, "CreateTable", []byte(fmt.Sprintf(`{"TableName":%q,%s}`, name, schema))); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// differences compares every table of the target with DynamoDB Local.
func (f *fixture) differences(ctx context.Context) string {
	var out []string
	for _, tb := range f.tables {
		want, err := scanAll(func(op, body string) (ddbAnswer, error) {
			resp, err := f.ddb.Do(ctx, op, []byte(body))
			if err != nil || resp.Status != 200 {
				return ddbAnswer{}, fmt.Errorf("%s: %v %s", op, err, resp.Body)
			}
			var a ddbAnswer
			return a, json.Unmarshal(resp.Body, &a)
		}, tb)
		if err != nil {
			return err.Error()
		}
		got, err := scanAll(func(op, body string) (ddbAnswer, error) {
			raw, err := f.ex.Do(ctx, op, []byte(body))
			if err != nil {
				return ddbAnswer{}, err
			}
			var a ddbAnswer
			return a, json.Unmarshal(raw, &a)
		}, tb)
		if err != nil {
			return err.Error()
		}
		if d := diff(want, got); d != "" {
			out = append(out, tb+": "+d)
		}
	}
	return strings.Join(out, "\n")
}

// waitConverged waits until the target equals DynamoDB Local.
func (f *fixture) waitConverged(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		d := f.differences(ctx)
		if d == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: target never converged:\n%s", what, d)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// instance is one running consumer with its own applier and counts.
type instance struct {
	c     *Consumer
	rec   *metrics.Recorder
	stop  context.CancelFunc
	done  chan struct{}
	total int64 // settled records flushed from rec so far
}

func (f *fixture) start(t *testing.T, ctx context.Context, owner string, trace func(ev, stream, shard string)) *instance {
	t.Helper()
	rec := metrics.New(nil)
	ap, err := streamproc.NewApplier(streamproc.Config{Target: f.ex, DeadLetter: f.dl, Metrics: rec, Source: "dynamodbstreams"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(ctx, Config{Client: streamsClient(f.ddbEP), DynamoDB: testenv.Client(f.ddbEP), Tables: f.tables,
		Store: f.st, Applier: ap, Metrics: rec, Owner: owner, LeaseDuration: 3 * time.Second, Tick: 300 * time.Millisecond,
		Idle: 100 * time.Millisecond, BatchLimit: 100, DescribeEvery: 300 * time.Millisecond, Trace: trace})
	if err != nil {
		t.Fatal(err)
	}
	cctx, stop := context.WithCancel(ctx)
	in := &instance{c: c, rec: rec, stop: stop, done: make(chan struct{})}
	go func() {
		defer close(in.done)
		defer ap.Close()
		c.Run(cctx)
	}()
	t.Cleanup(func() { stop(); <-in.done })
	return in
}

// kill stops an instance hard: no release, no final checkpoint.
func (in *instance) kill() { in.stop(); <-in.done }

// settled is how many records the instance settled so far (any outcome).
func (in *instance) settled() int64 {
	for _, p := range in.rec.Flush() {
		if p.Measurement == metrics.MeasurementReplication {
			for _, k := range []string{"applied", "stale", "duplicate", "dead_lettered"} {
				in.total += p.Fields[k].(int64)
			}
		}
	}
	return in.total
}

// shardRecords reads a shard's records after seq ("" = all) up to the
// tip, with the plain API, and returns how many and the last sequence
// number.
func shardRecords(t *testing.T, ctx context.Context, sc *dynamodbstreams.Client, arn, shard, after string) (int, string) {
	t.Helper()
	r := &Reader{Client: sc}
	it, err := r.iterator(ctx, arn, shard, after, r.logger())
	if err != nil {
		t.Fatal(err)
	}
	n, last := 0, after
	for it != nil {
		out, err := sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it})
		if err != nil {
			t.Fatal(err)
		}
		n += len(out.Records)
		if len(out.Records) == 0 {
			break
		}
		last = aws.ToString(out.Records[len(out.Records)-1].Dynamodb.SequenceNumber)
		it = out.NextShardIterator
	}
	return n, last
}

// TestConsumer: random puts, updates, deletes and transactions on three
// DynamoDB Local tables with streams (DynamoDB Local stamps records to the
// minute, so nearly every change of an item ties with others on time) are
// replicated by two instances sharing the shards; one is killed hard and
// the other takes over; then the survivor stops, more changes are made,
// and a restarted instance resumes from the checkpoints: it settles
// exactly the records after them. The target equals DynamoDB Local item
// for item after each phase, every shard is checkpointed at its last
// record with the stamper's state, and nothing is dead-lettered.
func TestConsumer(t *testing.T) {
	if testing.Short() {
		t.Skip("needs DynamoDB Local")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	f := newFixture(t, ctx, "ds", 3)
	var (
		traceMu sync.Mutex
		trace   []string
	)
	tr := func(ev, stream, shard string) {
		traceMu.Lock()
		trace = append(trace, ev+" "+stream+" "+shard)
		traceMu.Unlock()
	}

	// Phase 1: A and B share the three streams' shards.
	a := f.start(t, ctx, "A", tr)
	b := f.start(t, ctx, "B", tr)
	if err := randomWrites(ctx, f.ddb, f.tables, 600, 45, 1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "A and B share the shards", func() bool { return len(a.c.Held()) > 0 && len(b.c.Held()) > 0 && len(a.c.Held())+len(b.c.Held()) == 3 })
	f.waitConverged(t, ctx, "phase 1")

	// Phase 2: A dies mid-stream without releasing; B takes its shards.
	writes := make(chan error, 1)
	go func() { writes <- randomWrites(ctx, f.ddb, f.tables, 600, 45, 2) }()
	time.Sleep(300 * time.Millisecond)
	a.kill()
	if err := <-writes; err != nil {
		t.Fatal(err)
	}
	waitFor(t, "B takes over A's shards", func() bool { return len(b.c.Held()) == 3 })
	f.waitConverged(t, ctx, "phase 2")

	// Phase 3: B stops (and releases); changes pile up; B restarts and
	// resumes from the checkpoints.
	b.kill()
	b.c.Release(ctx)
	if err := randomWrites(ctx, f.ddb, f.tables, 600, 45, 3); err != nil {
		t.Fatal(err)
	}
	sc := streamsClient(f.ddbEP)
	leases, err := lease.NewTable(f.st, Group).List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(leases) != 3 {
		t.Fatalf("%d leases, want 3: %v", len(leases), leases)
	}
	pending := 0
	for id, l := range leases {
		if l.Owner != "" {
			t.Errorf("lease %s still owned by %s after Release", id, l.Owner)
		}
		arn, shard := splitID(id)
		n, _ := shardRecords(t, ctx, sc, arn, shard, l.Checkpoint)
		pending += n
	}
	b2 := f.start(t, ctx, "B", tr)
	f.waitConverged(t, ctx, "phase 3")
	waitFor(t, "the restarted instance settles every record after the checkpoints", func() bool { return b2.settled() >= int64(pending) })
	time.Sleep(500 * time.Millisecond) // nothing more may come
	if got := b2.settled(); got != int64(pending) {
		t.Errorf("restarted instance settled %d records, want the %d after the checkpoints", got, pending)
	}

	// Every shard is checkpointed at its last record, with the stamper's
	// state there.
	waitFor(t, "checkpoints at the tip", func() bool {
		all, err := lease.NewTable(f.st, Group).List(ctx)
		if err != nil {
			return false
		}
		for id, l := range all {
			arn, shard := splitID(id)
			if _, last := shardRecords(t, ctx, sc, arn, shard, ""); l.Checkpoint != last {
				return false
			}
			var st Stamp
			if json.Unmarshal(l.State, &st) != nil || st.Count == 0 {
				return false
			}
		}
		return true
	})
	if letters, _ := f.dl.List(ctx, 0); len(letters) != 0 {
		t.Errorf("%d dead letters, first %+v", len(letters), letters[0])
	}
	traceMu.Lock()
	defer traceMu.Unlock()
	sort.Strings(trace)
	t.Logf("pending after stop: %d; trace: %v", pending, trace)
}

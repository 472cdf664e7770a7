package lambda

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/dualread/dualread/internal/kdsgen"
	"github.com/dualread/dualread/internal/testenv"
	"github.com/dualread/dualread/streamproc/ddbstreams"
)

// streamsRecords reads a table's whole DynamoDB Stream from DynamoDB Local
// and returns its records as a Lambda DynamoDB trigger delivers them (the
// GetRecords JSON plus eventSourceARN).
func streamsRecords(t *testing.T, ctx context.Context, table string) []json.RawMessage {
	t.Helper()
	sc := dynamodbstreams.New(dynamodbstreams.Options{Region: testenv.Region, BaseEndpoint: aws.String(ddbLocal),
		Credentials: credentials.NewStaticCredentialsProvider(testenv.AccessKeyID, testenv.SecretAccessKey, "")})
	streams, err := ddbstreams.ListStreams(ctx, sc, table)
	if err != nil || len(streams) != 1 {
		t.Fatalf("streams of %s: %v %v", table, streams, err)
	}
	s := streams[0]
	r := &ddbstreams.Reader{Client: sc}
	d, err := r.Describe(ctx, s.ARN)
	if err != nil {
		t.Fatal(err)
	}
	var out []json.RawMessage
	for _, sh := range d.Shards {
		it, err := sc.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(s.ARN), ShardId: aws.String(sh.ID), ShardIteratorType: "TRIM_HORIZON"})
		if err != nil {
			t.Fatal(err)
		}
		for iter := it.ShardIterator; iter != nil; {
			page, err := sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Records) == 0 {
				break
			}
			for _, rec := range page.Records {
				c := ddbstreams.Convert(rec, "")
				var m map[string]any
				if err := json.Unmarshal(c.Raw, &m); err != nil {
					t.Fatal(err)
				}
				m["eventSourceARN"] = s.ARN
				b, _ := json.Marshal(m)
				out = append(out, b)
			}
			iter = page.NextShardIterator
		}
	}
	return out
}

// compare fails unless the target's table equals DynamoDB Local's.
func compare(t *testing.T, ctx context.Context, e *endpoint, table string) int {
	t.Helper()
	ddb := testenv.NewRawClient(ddbLocal)
	want := testenv.ScanByPK(t, ddb.ScanVia(ctx), table)
	got := testenv.ScanByPK(t, func(body string) ([]byte, error) { return e.ex.Do(ctx, "Scan", []byte(body)) }, table)
	if d := testenv.DiffByPK(want, got); d != "" {
		t.Fatal(d)
	}
	return len(want)
}

func newTable(t *testing.T, ctx context.Context, prefix string, stream bool) string {
	t.Helper()
	name := fmt.Sprintf("%s_%d", prefix, time.Now().UnixNano())
	spec := ""
	if stream {
		spec = `,"StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_AND_OLD_IMAGES"}`
	}
	ddb := testenv.NewRawClient(ddbLocal)
	if r, err := ddb.Do(ctx, "CreateTable", []byte(fmt.Sprintf(`{"TableName":%q,%s%s}`, name, schema, spec))); err != nil || r.Status != 200 {
		t.Fatalf("CreateTable: %v %s", err, r.Body)
	}
	t.Cleanup(func() { ddb.Do(context.Background(), "DeleteTable", []byte(fmt.Sprintf(`{"TableName":%q}`, name))) })
	return name
}

// TestDynamoDBStreamsEvents: real DynamoDB Streams records of random
// changes (DynamoDB Local stamps them to the minute, so most of an item's
// changes tie on time), POSTed in DynamoDB-trigger events: batches sent out
// of order, shuffled inside, and some sent twice. Every answer is 200 and
// the target ends equal to DynamoDB Local.
func TestDynamoDBStreamsEvents(t *testing.T) {
	needDynamoDB(t)
	ctx := context.Background()
	table := newTable(t, ctx, "lam_ddb", true)
	if _, err := kdsgen.Generate(ctx, kdsgen.Config{DynamoDB: testenv.NewRawClient(ddbLocal), Tables: []string{table},
		Changes: 800, Keys: 40, Batch: 10, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	recs := streamsRecords(t, ctx, table)
	if len(recs) < 700 {
		t.Fatalf("only %d stream records", len(recs))
	}
	e := newEndpoint(t, "", 0, table)
	rnd := rand.New(rand.NewPCG(5, 5))
	var batches [][]json.RawMessage
	for len(recs) > 0 {
		n := min(len(recs), 1+rnd.IntN(60))
		batches = append(batches, recs[:n])
		recs = recs[n:]
	}
	// Out of order: neighbouring batches swapped, a few records shuffled
	// inside batches; duplicates: some batches sent again later.
	var sends [][]json.RawMessage
	for i := 0; i < len(batches); i++ {
		if i+1 < len(batches) && rnd.IntN(4) == 0 {
			sends = append(sends, batches[i+1], batches[i])
			i++
			continue
		}
		sends = append(sends, batches[i])
	}
	for i := range sends {
		if rnd.IntN(3) == 0 {
			b := append([]json.RawMessage(nil), sends[i]...)
			rnd.Shuffle(len(b), func(x, y int) { b[x], b[y] = b[y], b[x] })
			sends[i] = b
		}
		if rnd.IntN(5) == 0 {
			j := min(len(sends), i+1+rnd.IntN(5))
			sends = append(sends[:j], append([][]json.RawMessage{sends[i]}, sends[j:]...)...)
		}
	}
	var res Result
	for _, b := range sends {
		status, r := e.post(t, event(b))
		if status != http.StatusOK || len(r.BatchItemFailures) != 0 || r.Result == nil {
			t.Fatalf("status %d: %+v", status, r)
		}
		res.Records += r.Result.Records
		res.Applied += r.Result.Applied
		res.Stale += r.Result.Stale
		res.Duplicate += r.Result.Duplicate
		res.DeadLettered += r.Result.DeadLettered
	}
	items := compare(t, ctx, e, table)
	t.Logf("%d batches (%d sends), %d items: %+v", len(batches), len(sends), items, res)
	if res.DeadLettered != 0 || res.Duplicate == 0 || res.Stale == 0 || res.Applied+res.Stale+res.Duplicate != res.Records {
		t.Errorf("outcomes %+v: want duplicates and stale records, no dead letters, every record settled", res)
	}
}

// TestKinesisEvents: KDS-for-DynamoDB records of random changes (both
// timestamp precisions), with KDS's duplicates and reordering, POSTed in
// Kinesis-trigger events; the target ends equal to DynamoDB Local.
func TestKinesisEvents(t *testing.T) {
	needDynamoDB(t)
	ctx := context.Background()
	table := newTable(t, ctx, "lam_kin", false)
	gen, err := kdsgen.Generate(ctx, kdsgen.Config{DynamoDB: testenv.NewRawClient(ddbLocal), Tables: []string{table},
		Changes: 800, Keys: 40, Batch: 10, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	pubs := kdsgen.Disorder(gen.Records, rand.New(rand.NewPCG(6, 6)))
	e := newEndpoint(t, "", 0, table)
	applied := 0
	for i := 0; i < len(pubs); i += 100 {
		var recs []json.RawMessage
		for j, p := range pubs[i:min(len(pubs), i+100)] {
			b, _ := json.Marshal(map[string]any{"eventSource": "aws:kinesis", "eventID": fmt.Sprintf("shardId-000000000000:%d", i+j),
				"eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/ddb", "kinesis": map[string]any{
					"kinesisSchemaVersion": "1.0", "partitionKey": p.PartitionKey, "sequenceNumber": fmt.Sprint(i + j),
					"data": base64.StdEncoding.EncodeToString(p.Data), "approximateArrivalTimestamp": 1.7e9}})
			recs = append(recs, b)
		}
		status, r := e.post(t, event(recs))
		if status != http.StatusOK || r.Result == nil {
			t.Fatalf("status %d: %+v", status, r)
		}
		applied += r.Result.Applied
	}
	compare(t, ctx, e, table)
	if applied == 0 {
		t.Error("nothing applied")
	}
}

// Package audit_test runs the adapter with shadow reads against DynamoDB
// Local and an in-process audit service writing to a real InfluxDB, and
// checks the classes that arrive there.
package audit_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dualread/dualread/adapter"
	"github.com/dualread/dualread/adapter/shadow"
	"github.com/dualread/dualread/audit"
	"github.com/dualread/dualread/audit/sink"
	"github.com/dualread/dualread/internal/testenv"
)

func TestShadowAuditIntoInfluxDB(t *testing.T) {
	ctx := context.Background()
	ddbURL := testenv.StartDynamoDBLocal(t)
	influxURL := testenv.StartInfluxDB(t, "dualread")
	caller := shadow.NewDynamoDB(ddbURL, "us-east-1", credentials.NewStaticCredentialsProvider("shadow", "secret", ""))
	var sinkHolder shadow.AuditSink
	late := &forward{}
	a, err := adapter.Open(ctx, adapter.Config{Shadow: &adapter.ShadowConfig{Caller: caller, Sink: late,
		Limits: shadow.Config{RatePerSec: -1}}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	influx := sink.NewInflux(sink.InfluxConfig{URL: influxURL, Bucket: "dualread/autogen", Interval: 500 * time.Millisecond})
	svc, err := audit.NewService(audit.Config{LagDelay: 1500 * time.Millisecond,
		Rereader: shadow.Rereader{Store: shadow.ExecutorCaller{Exec: a.Executor}, StoreBackend: a.BackendFor, DynamoDB: caller}}, influx)
	if err != nil {
		t.Fatal(err)
	}
	sinkHolder = shadow.AuditSink{Submitter: svc, Keys: func(tb string) []string { return a.Executor.KeyNames(ctx, tb) }}
	late.to = sinkHolder

	srv := httptest.NewServer(a.Handler)
	defer srv.Close()
	primary, dynamo := testenv.Client(srv.URL), testenv.Client(ddbURL)
	put := func(c *dynamodb.Client, pk, v string) {
		t.Helper()
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("audited"), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: pk}, "v": &types.AttributeValueMemberN{Value: v},
			"tags": &types.AttributeValueMemberSS{Value: []string{"b", "a", "c"}}}}); err != nil {
			t.Fatal(err)
		}
	}
	get := func(pk string) {
		t.Helper()
		if _, err := primary.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("audited"),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []*dynamodb.Client{primary, dynamo} {
		if _, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("audited"), BillingMode: types.BillingModePayPerRequest,
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	// Equal data, numbers spelled differently on the way in: matches.
	put(primary, "same", "1.50")
	put(dynamo, "same", "1.5")
	// A changed value: a mismatch that a re-read does not explain.
	put(primary, "changed", "1")
	put(dynamo, "changed", "2")
	// Written to DynamoDB first, copied to the primary a moment later: lag.
	put(dynamo, "late", "7")
	for range 3 {
		get("same")
	}
	get("changed")
	get("late")
	time.Sleep(300 * time.Millisecond)
	put(primary, "late", "7")

	want := map[string]int{"match": 3, "mismatch": 1, "lag": 1}
	deadline := time.Now().Add(20 * time.Second)
	var got map[string]int
	for time.Now().Before(deadline) {
		got = classes(t, influxURL)
		if equal(got, want) {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	if !equal(got, want) {
		t.Fatalf("InfluxDB dualread_audit counts by class = %v, want %v (service stats %+v)", got, want, svc.Stats())
	}
	if err := svc.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

type forward struct{ to shadow.Sink }

func (f *forward) Submit(r shadow.Record) {
	if f.to != nil {
		f.to.Submit(r)
	}
}

func classes(t *testing.T, influxURL string) map[string]int {
	t.Helper()
	res, err := testenv.InfluxQuery(context.Background(), influxURL, "dualread",
		`SELECT sum("count") FROM "dualread_audit" WHERE "table" = 'audited' GROUP BY "class"`)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range res.Results {
		for _, s := range r.Series {
			if len(s.Values) > 0 && len(s.Values[0]) > 1 {
				out[s.Tags["class"]] = int(s.Values[0][1].(float64))
			}
		}
	}
	return out
}

func equal(a, b map[string]int) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

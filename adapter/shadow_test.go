package adapter_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dualread/dualread/adapter"
	"github.com/dualread/dualread/adapter/shadow"
	"github.com/dualread/dualread/internal/testenv"
)

type collect struct {
	mu   sync.Mutex
	recs []shadow.Record
}

func (c *collect) Submit(r shadow.Record) { c.mu.Lock(); c.recs = append(c.recs, r); c.mu.Unlock() }
func (c *collect) all() []shadow.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]shadow.Record(nil), c.recs...)
}

// TestShadowReads: the adapter serves reads from its backend and re-sends
// them to DynamoDB Local in the background; both answers reach the sink.
// Then DynamoDB Local is stopped: the adapter keeps answering, failures are
// counted and the breaker opens.
func TestShadowReads(t *testing.T) {
	ctx := context.Background()
	ddb, err := testenv.LaunchDynamoDBLocal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer ddb.Stop()
	sink := &collect{}
	a, err := adapter.Open(ctx, adapter.Config{Shadow: &adapter.ShadowConfig{
		Caller: shadow.NewDynamoDB(ddb.Endpoint, "us-east-1", credentials.NewStaticCredentialsProvider("shadow", "secret", "")),
		Sink:   sink,
		Limits: shadow.Config{RatePerSec: -1, BreakerOpen: 3, Cooldown: time.Minute, Timeout: time.Second},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	srv := httptest.NewServer(a.Handler)
	defer srv.Close()
	primary, secondary := testenv.Client(srv.URL), testenv.Client(ddb.Endpoint)
	for _, c := range []*dynamodb.Client{primary, secondary} {
		if _, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("shadowed"), BillingMode: types.BillingModePayPerRequest,
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("shadowed"), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "a"}, "n": &types.AttributeValueMemberN{Value: "1.50"}}}); err != nil {
			t.Fatal(err)
		}
	}
	get := func() {
		t.Helper()
		out, err := primary.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("shadowed"),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}}})
		if err != nil || out.Item == nil {
			t.Fatalf("served read failed: %v", err)
		}
	}
	for range 5 {
		get()
	}
	recs := waitFor(t, sink, 5)
	for _, r := range recs {
		if r.Op != "GetItem" || r.Table != "shadowed" || r.Shadow.Status != 200 || r.Primary.Status != 200 {
			t.Fatalf("record %+v", r)
		}
		var p, s any
		json.Unmarshal(r.Primary.Body, &p)
		json.Unmarshal(r.Shadow.Body, &s)
		if !reflect.DeepEqual(p, s) {
			t.Errorf("answers differ: adapter %s, DynamoDB Local %s", r.Primary.Body, r.Shadow.Body)
		}
	}

	ddb.Stop()
	start := time.Now()
	for range 20 {
		get() // served from the backend whatever happens to DynamoDB
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("20 reads took %v with the shadow down", d)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !a.Shadower.Stats().BreakerOpen && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	st := a.Shadower.Stats()
	if !st.BreakerOpen || st.Failed < 3 {
		t.Errorf("stats with DynamoDB stopped: %+v; want failures counted and the breaker open", st)
	}
}

func waitFor(t *testing.T, c *collect, n int) []shadow.Record {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if r := c.all(); len(r) >= n {
			return r
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("only %d of %d shadow records arrived", len(c.all()), n)
	return nil
}

package audit_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	influxdb2 "github.com/influxdata/influxdb-client-go/v2"

	"github.com/dualread/dualread/adapter"
	"github.com/dualread/dualread/adapter/modes"
	"github.com/dualread/dualread/audit/access"
	"github.com/dualread/dualread/internal/testenv"
)

// TestAccessPatternsIntoInfluxDB: two services (told apart by their access
// keys) read and write; one write hits a read-only table and is refused. The
// counts per service, table and operation land in InfluxDB's 24 h policy.
func TestAccessPatternsIntoInfluxDB(t *testing.T) {
	ctx := context.Background()
	influxURL := testenv.StartInfluxDB(t, "dualread")
	if err := access.EnsureRetention(ctx, influxURL, "dualread"); err != nil {
		t.Fatal(err)
	}
	set, err := modes.NewSet([]modes.Rule{{Pattern: "default", Mode: modes.Default},
		{Pattern: "frozen", Mode: modes.Mode{Serve: "store", Shadow: "off", Writes: "reject"}}})
	if err != nil {
		t.Fatal(err)
	}
	counter := access.NewCounter()
	a, err := adapter.Open(ctx, adapter.Config{Modes: set, Access: counter})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	srv := httptest.NewServer(a.Handler)
	defer srv.Close()
	client := func(key string) *dynamodb.Client {
		return dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
			Credentials: credentials.NewStaticCredentialsProvider(key, "secret", "")})
	}
	orders, billing := client("AKIAORDERS"), client("AKIABILLING")
	for _, name := range []string{"frozen", "live"} {
		if _, err := orders.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest,
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	item := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}}
	for range 3 {
		if _, err := orders.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("live"), Item: item}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := billing.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("live"), Key: item}); err != nil {
		t.Fatal(err)
	}
	if _, err := billing.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("frozen"), Item: item}); err == nil {
		t.Fatal("write to the read-only table accepted")
	}

	c := influxdb2.NewClient(influxURL, "")
	defer c.Close()
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		access.Run(rctx, counter, c.WriteAPIBlocking("", "dualread/"+access.RetentionPolicy), time.Hour, nil)
		close(done)
	}()
	cancel() // Run flushes once more on the way out
	<-done

	res, err := testenv.InfluxQuery(ctx, influxURL, "dualread",
		`SELECT sum("count"), sum("rejected") FROM "`+access.RetentionPolicy+`"."dualread_access" WHERE "kind" != 'table' GROUP BY "service", "table", "op"`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]float64{}
	for _, r := range res.Results {
		for _, s := range r.Series {
			got[s.Tags["service"]+" "+s.Tags["table"]+" "+s.Tags["op"]] = [2]float64{s.Values[0][1].(float64), s.Values[0][2].(float64)}
		}
	}
	want := map[string][2]float64{
		"AKIAORDERS live PutItem":    {3, 0},
		"AKIABILLING live GetItem":   {1, 0},
		"AKIABILLING frozen PutItem": {1, 1},
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: (count, rejected) = %v, want %v (all: %v)", k, got[k], w, got)
		}
	}
}

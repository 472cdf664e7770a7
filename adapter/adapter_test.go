package adapter_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dualread/dualread/adapter"
	"github.com/dualread/dualread/internal/testenv"
)

// TestRestartKeepsData runs the adapter on each external backend (Bigtable
// emulator, Spanner emulator), stops it, starts a new one on the same
// instance and checks that tables, indexes, TTL settings and items are all
// still there.
func TestRestartKeepsData(t *testing.T) {
	t.Run("bigtable", func(t *testing.T) {
		t.Setenv("BIGTABLE_EMULATOR_HOST", testenv.StartBigtableEmulator(t))
		restartKeepsData(t, adapter.Config{Backend: adapter.BackendBigtable, BigtableProject: "proj", BigtableInstance: "inst"})
	})
	t.Run("spanner", func(t *testing.T) {
		t.Setenv("SPANNER_EMULATOR_HOST", testenv.StartSpannerEmulator(t))
		restartKeepsData(t, adapter.Config{Backend: adapter.BackendSpanner, SpannerDatabase: "projects/proj/instances/inst/databases/db"})
	})
}

func restartKeepsData(t *testing.T, cfg adapter.Config) {
	ctx := context.Background()
	start := func() (*dynamodb.Client, func()) {
		a, err := adapter.Open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(a.Handler)
		return testenv.Client(srv.URL), func() { srv.Close(); a.Close() }
	}

	c, stop := start()
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String("orders"),
		BillingMode: types.BillingModePayPerRequest,
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN},
			{AttributeName: aws.String("status"), AttributeType: types.ScalarAttributeTypeS},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName:  aws.String("by_status"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("status"), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String("orders"),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("exp"), Enabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	for _, sk := range []string{"1", "2"} {
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("orders"), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "cust"}, "sk": &types.AttributeValueMemberN{Value: sk},
			"status": &types.AttributeValueMemberS{Value: "open"},
		}}); err != nil {
			t.Fatal(err)
		}
	}
	stop()

	c, stop = start()
	defer stop()
	d, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("orders")})
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if len(d.Table.GlobalSecondaryIndexes) != 1 {
		t.Errorf("after restart: %d GSIs, want 1", len(d.Table.GlobalSecondaryIndexes))
	}
	ttl, err := c.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("orders")})
	if err != nil || ttl.TimeToLiveDescription.TimeToLiveStatus != types.TimeToLiveStatusEnabled {
		t.Errorf("after restart: TTL %v, %v", ttl, err)
	}
	q, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("orders"), IndexName: aws.String("by_status"),
		KeyConditionExpression:    aws.String("#s = :s"),
		ExpressionAttributeNames:  map[string]string{"#s": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": &types.AttributeValueMemberS{Value: "open"}}})
	if err != nil || q.Count != 2 {
		t.Fatalf("after restart: GSI query count %v, err %v; want 2", q, err)
	}
	g, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("orders"), Key: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "cust"}, "sk": &types.AttributeValueMemberN{Value: "2"}}})
	if err != nil || g.Item == nil {
		t.Fatalf("after restart: item missing (%v)", err)
	}
}

package bench

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dualread/dualread/internal/testenv"
)

// Against DynamoDB Local (the oracle): every operation of the workload is a
// valid request (no error), and the table lifecycle is right: a table the
// run created is deleted, one that existed is left alone, one with another
// key schema is refused.
func TestRunAgainstDynamoDBLocal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts or uses DynamoDB Local")
	}
	endpoint := testenv.StartDynamoDBLocal(t)
	ctx := context.Background()
	client := testenv.Client(endpoint)
	table := "bench_test_" + strings.ToLower(strings.ReplaceAll(time.Now().Format("150405.000000"), ".", ""))
	exists := func() bool {
		_, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		var nf *types.ResourceNotFoundException
		if err != nil && !errors.As(err, &nf) {
			t.Fatal(err)
		}
		return err == nil
	}
	all := map[string]int{}
	for _, op := range Operations {
		all[op] = 1
	}
	cfg := Config{Endpoint: endpoint, Concurrency: 4, Duration: time.Minute, Mix: all, Keys: 95,
		ItemSize: 100, MaxOps: 120, Table: table}

	t.Run("created table is deleted", func(t *testing.T) {
		res, err := Run(ctx, cfg, quietLog())
		if err != nil {
			t.Fatal(err)
		}
		if res.Total.Requests != 120 || res.Total.Errors != 0 {
			t.Fatalf("%d requests, %d errors (%v); want 120 and none\n%s", res.Total.Requests, res.Total.Errors, res.Total.ErrorsByType, res.Markdown())
		}
		if len(res.PerOp) != len(Operations) {
			t.Errorf("ran %d operations, want all %d", len(res.PerOp), len(Operations))
		}
		if exists() {
			t.Fatal("table created by the run is still there")
		}
	})

	t.Run("rounds keep then delete", func(t *testing.T) {
		c := cfg
		c.Rounds = 2
		cmp, err := Compare(ctx, []Target{{Name: "ddb", Endpoint: endpoint}}, c, quietLog())
		if err != nil {
			t.Fatal(err)
		}
		if r := cmp.Results[0]; r.Rounds != 2 || r.Total.Requests != 240 || r.Total.Errors != 0 {
			t.Fatalf("rounds %d, requests %d, errors %v; want 2, 240, none", r.Rounds, r.Total.Requests, r.Total.ErrorsByType)
		}
		if exists() {
			t.Fatal("table created by the comparison is still there")
		}
	})

	t.Run("existing table is kept", func(t *testing.T) {
		c := cfg
		c.MaxOps = 20
		if _, err := Run(ctx, Config{Endpoint: endpoint, Keys: 1, MaxOps: 1, Table: table, Keep: true}, quietLog()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = dropTable(ctx, Config{Endpoint: endpoint, Table: table}) })
		if !exists() {
			t.Fatal("Keep did not keep the table")
		}
		if _, err := Run(ctx, c, quietLog()); err != nil {
			t.Fatal(err)
		}
		if !exists() {
			t.Fatal("a table that existed before the run was deleted")
		}
	})

	t.Run("other key schema is refused", func(t *testing.T) {
		other := table + "_hashonly"
		_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName:            aws.String(other),
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
			BillingMode:          types.BillingModePayPerRequest,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = dropTable(ctx, Config{Endpoint: endpoint, Table: other}) })
		c := cfg
		c.Table = other
		if _, err := Run(ctx, c, quietLog()); err == nil || !strings.Contains(err.Error(), "key schema") {
			t.Fatalf("Run on a hash-only table: err = %v, want a key schema error", err)
		}
	})
}

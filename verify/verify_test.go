package verify

import (
	"context"
	"flag"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dualread/dualread/adapter"
	"github.com/dualread/dualread/internal/testenv"
)

var items = flag.Int("verify.items", 3000, "items per side (the issue's proof uses 100000)")

// TestVerify: equal copies (sets in another order, numbers spelled
// differently) compare equal; then exactly the injected missing, extra and
// different items are reported, and a second run gives the same answer.
func TestVerify(t *testing.T) {
	ctx := context.Background()
	src := testenv.Client(testenv.StartDynamoDBLocal(t))
	a, err := adapter.Open(ctx, adapter.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	srv := httptest.NewServer(a.Handler)
	defer srv.Close()
	dst := testenv.Client(srv.URL)
	for _, c := range []*dynamodb.Client{src, dst} {
		if _, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("big"), BillingMode: types.BillingModePayPerRequest,
			KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
				{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	item := func(i int, spelling, v string, set []string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("p%d", i%97)},
			"sk": &types.AttributeValueMemberN{Value: fmt.Sprintf(spelling, i)},
			"v":  &types.AttributeValueMemberS{Value: v},
			"s":  &types.AttributeValueMemberSS{Value: set},
		}
	}
	load := func(c *dynamodb.Client, spelling string, set []string) {
		for i := 0; i < *items; i += 25 {
			var reqs []types.WriteRequest
			for j := i; j < min(i+25, *items); j++ {
				reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item(j, spelling, "x", set)}})
			}
			if _, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"big": reqs}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	load(src, "%d", []string{"a", "b", "c"})
	load(dst, "%d.0", []string{"c", "a", "b"})
	cfg := Config{Source: src, Target: dst, Table: "big", Buckets: 256}
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Equal() || rep.SourceItems != int64(*items) || rep.TargetItems != int64(*items) || rep.DifferingBuckets != 0 {
		t.Fatalf("equal copies: %+v", rep)
	}

	key := func(i int) map[string]types.AttributeValue {
		it := item(i, "%d", "", nil)
		return map[string]types.AttributeValue{"pk": it["pk"], "sk": it["sk"]}
	}
	if _, err := dst.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("big"), Key: key(10)}); err != nil {
		t.Fatal(err)
	}
	if _, err := dst.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("big"), Item: item(*items+5, "%d", "x", []string{"a"})}); err != nil {
		t.Fatal(err)
	}
	if _, err := dst.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("big"), Item: item(20, "%d", "changed", []string{"a", "b", "c"})}); err != nil {
		t.Fatal(err)
	}
	for run := range 2 {
		rep, err = Run(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Missing != 1 || rep.Extra != 1 || rep.Different != 1 || len(rep.Samples) != 3 || rep.DifferingBuckets > 3 {
			t.Fatalf("run %d: %+v, want exactly one missing, one extra, one different", run, rep)
		}
	}
}

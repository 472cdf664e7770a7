package adapter_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/dualread/dualread/adapter"
	"github.com/dualread/dualread/internal/testenv"
)

// TestRoutingAcrossBackends serves "orders*" from the Spanner emulator and
// every other table from the embedded Bigtable emulator in one adapter.
func TestRoutingAcrossBackends(t *testing.T) {
	t.Setenv("SPANNER_EMULATOR_HOST", testenv.StartSpannerEmulator(t))
	ctx := context.Background()
	a, err := adapter.Open(ctx, adapter.Config{
		Backend:         adapter.BackendEmbedded,
		SpannerDatabase: "projects/test/instances/route/databases/route",
		Routes:          []adapter.Route{{Pattern: "orders*", Backend: adapter.BackendSpanner}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	srv := httptest.NewServer(a.Handler)
	defer srv.Close()
	c := testenv.Client(srv.URL)

	for table, want := range map[string]string{"orders_eu": "spanner", "users": "bigtable"} {
		if got := a.BackendFor(table); got != want {
			t.Errorf("BackendFor(%s) = %s, want %s", table, got, want)
		}
		if _, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName: aws.String(table), BillingMode: types.BillingModePayPerRequest,
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	put := func(table, pk string) types.TransactWriteItem {
		return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(table),
			Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}}}
	}
	// A transaction within one backend commits; the catalog (on the home
	// backend) lists tables of both.
	if _, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{put("orders_eu", "o1"), put("orders_eu", "o2")}}); err != nil {
		t.Fatalf("transaction on the spanner table: %v", err)
	}
	lt, err := c.ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil || len(lt.TableNames) != 2 {
		t.Fatalf("ListTables: %v %v", lt, err)
	}
	// One spanning both backends is refused with a DynamoDB error, nothing written.
	_, err = c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{put("orders_eu", "o3"), put("users", "u1")}})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" || !strings.Contains(ae.ErrorMessage(), "different backends") {
		t.Fatalf("cross-backend transaction: %v, want ValidationException", err)
	}
	for table, pk := range map[string]string{"orders_eu": "o3", "users": "u1"} {
		got, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}})
		if err != nil || got.Item != nil {
			t.Errorf("%s/%s written by a refused transaction (%v)", table, pk, err)
		}
	}
}

package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// uniqueName is a table name no other run or test uses.
func uniqueName(t testing.TB, what string) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "e2e_" + what + "_" + hex.EncodeToString(b)
}

// createTable creates in (TableName filled in if empty), waits for ACTIVE and
// deletes the table when t ends.
func createTable(t testing.TB, c *dynamodb.Client, in *dynamodb.CreateTableInput) string {
	t.Helper()
	ctx := context.Background()
	if in.TableName == nil {
		in.TableName = aws.String(uniqueName(t, "t"))
	}
	if in.BillingMode == "" && in.ProvisionedThroughput == nil {
		in.BillingMode = types.BillingModePayPerRequest
	}
	if _, err := c.CreateTable(ctx, in); err != nil {
		t.Fatalf("CreateTable %s: %v", *in.TableName, err)
	}
	name := *in.TableName
	t.Cleanup(func() {
		_, _ = c.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	waitActive(t, c, name)
	return name
}

func waitActive(t testing.TB, c *dynamodb.Client, name string) *types.TableDescription {
	t.Helper()
	w := dynamodb.NewTableExistsWaiter(c, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second
	})
	out, err := w.WaitForOutput(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 60*time.Second)
	if err != nil {
		t.Fatalf("table %s not ACTIVE: %v", name, err)
	}
	return out.Table
}

// hashTable is the simplest table: pk (S).
func hashTable() *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	}
}

// rangeTable is pk (S) + sk (N).
func rangeTable() *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
	}
}

func s(v string) types.AttributeValue     { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue     { return &types.AttributeValueMemberN{Value: v} }
func ss(v ...string) types.AttributeValue { return &types.AttributeValueMemberSS{Value: v} }

// wantAPIError fails unless err is a DynamoDB error with the given code and,
// if msg is not empty, exactly that message.
func wantAPIError(t testing.TB, err error, code, msg string) smithy.APIError {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s error, got %v", code, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("want error code %s, got %s: %s", code, ae.ErrorCode(), ae.ErrorMessage())
	}
	if msg != "" && ae.ErrorMessage() != msg {
		t.Fatalf("want message %q, got %q", msg, ae.ErrorMessage())
	}
	return ae
}

func asErr[T error](err error, target *T) bool { return errors.As(err, target) }

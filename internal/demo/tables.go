package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The demo's tables.
const (
	// OrdersTable: customer (HASH) + order_id (RANGE), so Query has a
	// partition to read in order.
	OrdersTable = "demo_orders"
	// CatalogTable: sku (HASH) only; BatchGetItem and the injected
	// divergences live here.
	CatalogTable = "demo_catalog"
)

// Tables are the demo's table names.
func Tables() []string { return []string{OrdersTable, CatalogTable} }

func s(name string) types.AttributeDefinition {
	return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeTypeS}
}

func key(name string, kt types.KeyType) types.KeySchemaElement {
	return types.KeySchemaElement{AttributeName: aws.String(name), KeyType: kt}
}

// tableInputs are the CreateTable requests. DynamoDB Local gets a stream
// (the KDS bridge tails it); the adapter gets the same keys without one.
func tableInputs(withStream bool) []*dynamodb.CreateTableInput {
	var stream *types.StreamSpecification
	if withStream {
		stream = &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages}
	}
	return []*dynamodb.CreateTableInput{
		{
			TableName:            aws.String(OrdersTable),
			AttributeDefinitions: []types.AttributeDefinition{s("customer"), s("order_id")},
			KeySchema:            []types.KeySchemaElement{key("customer", types.KeyTypeHash), key("order_id", types.KeyTypeRange)},
			BillingMode:          types.BillingModePayPerRequest,
			StreamSpecification:  stream,
		},
		{
			TableName:            aws.String(CatalogTable),
			AttributeDefinitions: []types.AttributeDefinition{s("sku")},
			KeySchema:            []types.KeySchemaElement{key("sku", types.KeyTypeHash)},
			BillingMode:          types.BillingModePayPerRequest,
			StreamSpecification:  stream,
		},
	}
}

// createTables creates the demo tables on c unless they exist, and waits
// until each is ACTIVE. An existing table is kept as it is: a demo started
// again against a running stack carries on with its data.
func createTables(ctx context.Context, c *dynamodb.Client, withStream bool) error {
	for _, in := range tableInputs(withStream) {
		_, err := c.CreateTable(ctx, in)
		var inUse *types.ResourceInUseException
		if err != nil && !errors.As(err, &inUse) {
			return fmt.Errorf("create %s: %w", *in.TableName, err)
		}
	}
	w := dynamodb.NewTableExistsWaiter(c, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second
	})
	for _, t := range Tables() {
		if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(t)}, time.Minute); err != nil {
			return fmt.Errorf("wait for %s: %w", t, err)
		}
	}
	return nil
}

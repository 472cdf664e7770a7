package demo

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Writes to DynamoDB Local: they reach the adapter's store only through
// the KDS bridge, kinesalite and streamproc.

func (g *gen) putOrder(ctx context.Context) error {
	item := g.newOrder(customerID(g.rng.IntN(customers)))
	_, err := g.source.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(OrdersTable), Item: item})
	return err
}

func (g *gen) updateOrder(ctx context.Context) error {
	c, id, ok := g.pickOrder()
	if !ok {
		return g.putOrder(ctx)
	}
	_, err := g.source.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(OrdersTable),
		Key:                       orderKey(c, id),
		UpdateExpression:          aws.String("SET #s = :s, updated_at = :t ADD revisions :one"),
		ConditionExpression:       aws.String("attribute_exists(order_id)"),
		ExpressionAttributeNames:  map[string]string{"#s": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": str(statuses[1+g.rng.IntN(len(statuses)-1)]), ":t": str(time.Now().UTC().Format(time.RFC3339Nano)), ":one": num(1)},
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return nil // deleted meanwhile: a normal outcome
	}
	return err
}

func (g *gen) deleteOrder(ctx context.Context) error {
	c := customerID(g.rng.IntN(customers))
	ids := g.orders[c]
	if len(ids) < 2 { // keep every customer's partition non-empty for Query
		return g.putOrder(ctx)
	}
	_, err := g.source.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(OrdersTable), Key: orderKey(c, ids[0])})
	if err == nil {
		g.orders[c] = ids[1:]
	}
	return err
}

func (g *gen) updatePrice(ctx context.Context) error {
	_, err := g.source.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(CatalogTable),
		Key:                       skuKey(skuID(g.rng.IntN(skus))),
		UpdateExpression:          aws.String("SET price = :p ADD stock :d"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": num(100 + g.rng.IntN(9900)), ":d": num(g.rng.IntN(11) - 5)},
	})
	return err
}

// Reads through the adapter, each as the service that would make it. The
// adapter shadows them to DynamoDB Local (sample 1.0 in the stack) and the
// audit compares the answers.

func (g *gen) getOrder(ctx context.Context) error {
	c, id, ok := g.pickOrder()
	if !ok {
		return g.queryOrders(ctx)
	}
	_, err := g.check.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(OrdersTable), Key: orderKey(c, id)})
	return err
}

func (g *gen) queryOrders(ctx context.Context) error {
	_, err := g.check.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(OrdersTable),
		KeyConditionExpression:    aws.String("customer = :c"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": str(customerID(g.rng.IntN(customers)))},
		ScanIndexForward:          aws.Bool(g.rng.IntN(2) == 0),
		Limit:                     aws.Int32(10),
	})
	return err
}

func (g *gen) getSKU(ctx context.Context) error {
	_, err := g.catalog.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(CatalogTable), Key: skuKey(g.pickSKU())})
	return err
}

func (g *gen) batchGetSKUs(ctx context.Context) error {
	seen := map[string]bool{}
	var keys []map[string]types.AttributeValue
	for len(keys) < 3 {
		if s := g.pickSKU(); !seen[s] {
			seen[s] = true
			keys = append(keys, skuKey(s))
		}
	}
	_, err := g.catalog.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
		RequestItems: map[string]types.KeysAndAttributes{CatalogTable: {Keys: keys}}})
	return err
}

// scan reads the whole (small) catalog, which the audit compares as a
// multiset, or the first page of 25 orders, which it cannot: each store
// returns its own 25 (Scan order is the store's hash order), and the audit
// says so (class incomparable) rather than report a false mismatch.
func (g *gen) scan(ctx context.Context) error {
	in := &dynamodb.ScanInput{TableName: aws.String(CatalogTable)}
	if g.rng.IntN(2) == 0 {
		in = &dynamodb.ScanInput{TableName: aws.String(OrdersTable), Limit: aws.Int32(25)}
	}
	_, err := g.reports.Scan(ctx, in)
	return err
}

// The injected divergences.

// lagProbe writes an order to DynamoDB Local and reads it through the
// adapter straight away: the first comparison differs (replication has not
// carried the order over yet), the audit's re-read a moment later agrees,
// and the pair is classed lag.
func (g *gen) lagProbe(ctx context.Context) {
	c := customerID(g.rng.IntN(customers))
	item := g.newOrder(c)
	if _, err := g.source.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(OrdersTable), Item: item}); err != nil {
		g.count(ctx, nil, err)
		return
	}
	atomic.AddInt64(&g.stats.SourceWrites, 1)
	_, err := g.check.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(OrdersTable), Key: orderKey(c, item["order_id"].(*types.AttributeValueMemberS).Value)})
	g.count(ctx, &g.stats.LagProbes, err)
}

// drift has legacy-writer change DriftSKU's price through the adapter, a
// write DynamoDB never sees (the kind of job a table's owners must find
// before cutting over), then reads it: a mismatch the audit keeps seeing.
func (g *gen) drift(ctx context.Context) {
	_, err := g.legacy.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(CatalogTable),
		Key:                       skuKey(DriftSKU),
		UpdateExpression:          aws.String("SET price = :p, note = :n"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": num(1 + g.rng.IntN(99)), ":n": str("repriced by legacy-writer at " + strconv.FormatInt(time.Now().Unix(), 10))},
	})
	if err != nil {
		g.count(ctx, nil, err)
		return
	}
	atomic.AddInt64(&g.stats.AdapterWrites, 1)
	_, err = g.catalog.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(CatalogTable), Key: skuKey(DriftSKU)})
	g.count(ctx, &g.stats.AdapterReads, err)
}

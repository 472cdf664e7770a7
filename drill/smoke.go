package drill

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// smoke sends reads through the switched adapter, as the application
// would, and compares each answer with DynamoDB's: GetItem on sampled keys
// and a Query of each sampled partition. Any error or difference fails the
// step.
func (d *run) smoke(ctx context.Context, tr *TableReport, k *keySchema) (string, error) {
	items, err := scanSample(ctx, d.cfg.DynamoDB, tr.Name, d.cfg.SmokeReads)
	if err != nil {
		return "", fmt.Errorf("DynamoDB scan: %w", err)
	}
	var first string
	fail := func(format string, a ...any) {
		tr.SmokeErrors++
		if first == "" {
			first = fmt.Sprintf(format, a...)
		}
	}
	queried := map[string]bool{}
	for _, it := range items {
		key := keyOf(k, it)
		tr.SmokeReads++
		out, err := d.cfg.Adapter.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tr.Name), Key: key, ConsistentRead: aws.Bool(true)})
		switch {
		case err != nil:
			fail("GetItem %s: %v", keyString(k, it), err)
			continue
		case out.Item == nil:
			fail("GetItem %s: not found on the adapter", keyString(k, it))
			continue
		case !sameItem(out.Item, it):
			// The item may have changed in between: DynamoDB decides.
			now, err := d.cfg.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tr.Name), Key: key, ConsistentRead: aws.Bool(true)})
			if err != nil || !sameItem(out.Item, now.Item) {
				fail("GetItem %s: the adapter's item differs from DynamoDB's", keyString(k, it))
			}
		}
		pk := keyString(&keySchema{hash: k.hash}, it)
		if k.rng == "" || queried[pk] {
			continue
		}
		queried[pk] = true
		tr.SmokeReads++
		q := &dynamodb.QueryInput{TableName: aws.String(tr.Name), KeyConditionExpression: aws.String("#h = :h"),
			ExpressionAttributeNames: map[string]string{"#h": k.hash}, ExpressionAttributeValues: map[string]types.AttributeValue{":h": it[k.hash]},
			Select: types.SelectCount, ConsistentRead: aws.Bool(true)}
		a, err := d.cfg.Adapter.Query(ctx, q)
		if err != nil {
			fail("Query %s: %v", pk, err)
			continue
		}
		b, err := d.cfg.DynamoDB.Query(ctx, q)
		if err == nil && a.Count != b.Count {
			fail("Query %s: the adapter counts %d items, DynamoDB %d", pk, a.Count, b.Count)
		}
	}
	if tr.SmokeErrors > 0 {
		return "", fmt.Errorf("%d of %d smoke reads failed, first: %s", tr.SmokeErrors, tr.SmokeReads, first)
	}
	return fmt.Sprintf("%d reads through the switched adapter agree with DynamoDB", tr.SmokeReads), nil
}

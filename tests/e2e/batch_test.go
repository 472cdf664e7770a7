package e2e

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func testBatchLimits(t *testing.T, c *dynamodb.Client) {
	ctx := context.Background()
	name := createTable(t, c, hashTable())
	puts := func(k int) []types.WriteRequest {
		var w []types.WriteRequest
		for i := 0; i < k; i++ {
			w = append(w, types.WriteRequest{PutRequest: &types.PutRequest{Item: item{"pk": s(fmt.Sprint("b", i)), "i": n(fmt.Sprint(i))}}})
		}
		return w
	}
	out, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{name: puts(25)}})
	if err != nil {
		t.Fatalf("25 writes: %v", err)
	}
	if len(out.UnprocessedItems) != 0 {
		t.Errorf("UnprocessedItems: %v", out.UnprocessedItems)
	}
	_, err = c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{name: puts(26)}})
	wantAPIError(t, err, "ValidationException", "")

	dup := append(puts(2), puts(1)...)
	_, err = c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{name: dup}})
	wantAPIError(t, err, "ValidationException", "Provided list of item keys contains duplicates")

	var keys []item
	for i := 0; i < 100; i++ {
		keys = append(keys, item{"pk": s(fmt.Sprint("b", i))})
	}
	got, err := c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{name: {Keys: keys, ProjectionExpression: aws.String("i")}}})
	if err != nil {
		t.Fatalf("100 keys: %v", err)
	}
	if len(got.Responses[name]) != 25 || len(got.UnprocessedKeys) != 0 {
		t.Errorf("BatchGetItem: %d items (want the 25 present), unprocessed %v", len(got.Responses[name]), got.UnprocessedKeys)
	}
	for _, it := range got.Responses[name] {
		if len(it) != 1 || it["i"] == nil {
			t.Errorf("projection not applied: %s", show(it))
			break
		}
	}
	keys = append(keys, item{"pk": s("b100")})
	_, err = c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{name: {Keys: keys}}})
	wantAPIError(t, err, "ValidationException", "")

	// Deletes in a batch; then nothing is left.
	var dels []types.WriteRequest
	for i := 0; i < 25; i++ {
		dels = append(dels, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: item{"pk": s(fmt.Sprint("b", i))}}})
	}
	if _, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{name: dels}}); err != nil {
		t.Fatal(err)
	}
	sc, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(name), Select: types.SelectCount})
	if err != nil {
		t.Fatal(err)
	}
	if sc.Count != 0 {
		t.Errorf("%d items left after batch delete", sc.Count)
	}
	_, err = c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{uniqueName(t, "nope"): puts(1)}})
	wantAPIError(t, err, "ResourceNotFoundException", "")
}

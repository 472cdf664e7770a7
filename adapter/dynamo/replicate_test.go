package dynamo

import (
	"context"
	"testing"

	"github.com/dualread/dualread/adapter/attr"
)

// TestReplicateLastWriterWins: changes arriving out of order and twice end
// in the newest state; a delete's tombstone stops an older insert from
// resurrecting the item; the index follows every applied change.
func TestReplicateLastWriterWins(t *testing.T) {
	e := newTestExecutor(t)
	ctx := context.Background()
	do(t, e, "CreateTable", `{"TableName":"rep","BillingMode":"PAY_PER_REQUEST",
		"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],
		"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"g","AttributeType":"S"}],
		"GlobalSecondaryIndexes":[{"IndexName":"by_g","KeySchema":[{"AttributeName":"g","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"}}]}`)
	key := attr.Item{"pk": attr.Str("a")}
	img := func(g string) attr.Item { return attr.Item{"pk": attr.Str("a"), "g": attr.Str(g)} }
	steps := []struct {
		image   attr.Item
		version uint64
		want    Outcome
	}{
		{img("v20"), 20, Applied},
		{img("v10"), 10, Stale},     // older, arrived late
		{img("v20"), 20, Duplicate}, // delivered twice
		{nil, 30, Applied},          // delete
		{img("v25"), 25, Stale},     // older insert: must not resurrect
		{img("v40"), 40, Applied},
	}
	for i, s := range steps {
		got, err := e.Replicate(ctx, "rep", key, s.image, s.version)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got != s.want {
			t.Fatalf("step %d (version %d): %s, want %s", i, s.version, got, s.want)
		}
		if i == 4 {
			if item := do(t, e, "GetItem", `{"TableName":"rep","Key":{"pk":{"S":"a"}}}`); item["Item"] != nil {
				t.Fatalf("deleted item resurrected: %v", item)
			}
		}
	}
	got := do(t, e, "Query", `{"TableName":"rep","IndexName":"by_g","KeyConditionExpression":"g = :g","ExpressionAttributeValues":{":g":{"S":"v40"}}}`)
	if got["Count"].(float64) != 1 {
		t.Errorf("index does not hold the newest image: %v", got)
	}
	for _, old := range []string{"v20", "v25"} {
		q := do(t, e, "Query", `{"TableName":"rep","IndexName":"by_g","KeyConditionExpression":"g = :g","ExpressionAttributeValues":{":g":{"S":"`+old+`"}}}`)
		if q["Count"].(float64) != 0 {
			t.Errorf("index still holds %s: %v", old, q)
		}
	}
	// Scan must not count tombstones.
	if _, err := e.Replicate(ctx, "rep", attr.Item{"pk": attr.Str("gone")}, nil, 5); err != nil {
		t.Fatal(err)
	}
	if s := do(t, e, "Scan", `{"TableName":"rep"}`); s["Count"].(float64) != 1 || s["ScannedCount"].(float64) != 1 {
		t.Errorf("scan sees tombstones: %v", s)
	}
}

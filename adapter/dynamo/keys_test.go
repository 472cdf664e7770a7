package dynamo

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/dualread/dualread/adapter/store/btstore"
)

// newTestExecutor runs an executor on the in-process Bigtable emulator.
func newTestExecutor(t *testing.T) *Executor {
	t.Helper()
	ctx := context.Background()
	st, err := btstore.NewEmbedded(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e, err := New(ctx, st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// do runs op and decodes the answer; it fails the test on an error.
func do(t *testing.T, e *Executor, op, body string) map[string]any {
	t.Helper()
	out, err := e.Do(context.Background(), op, []byte(body))
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestMaximalKeys writes keys at DynamoDB's size limits made of NUL bytes,
// which the order-preserving encoding escapes to twice their size, so table
// and index row keys would exceed Bigtable's 4 KB limit if stored verbatim.
func TestMaximalKeys(t *testing.T) {
	e := newTestExecutor(t)
	do(t, e, "CreateTable", `{"TableName":"big","BillingMode":"PAY_PER_REQUEST",
		"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],
		"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"S"},
			{"AttributeName":"gpk","AttributeType":"S"},{"AttributeName":"gsk","AttributeType":"S"}],
		"GlobalSecondaryIndexes":[{"IndexName":"gsi","Projection":{"ProjectionType":"ALL"},
			"KeySchema":[{"AttributeName":"gpk","KeyType":"HASH"},{"AttributeName":"gsk","KeyType":"RANGE"}]}]}`)
	pk := strings.Repeat(`\u0000`, 2048)
	for i, sk := range []string{strings.Repeat(`\u0000`, 1023) + "a", strings.Repeat(`\u0000`, 1023) + "b"} {
		item := `{"pk":{"S":"` + pk + `"},"sk":{"S":"` + sk + `"},"gpk":{"S":"` + pk + `"},"gsk":{"S":"` + sk + `"},"i":{"N":"` + string(rune('0'+i)) + `"}}`
		do(t, e, "PutItem", `{"TableName":"big","Item":`+item+`}`)
	}
	got := do(t, e, "GetItem", `{"TableName":"big","Key":{"pk":{"S":"`+pk+`"},"sk":{"S":"`+strings.Repeat(`\u0000`, 1023)+`b"}},"ProjectionExpression":"i"}`)
	if n := got["Item"].(map[string]any)["i"].(map[string]any)["N"]; n != "1" {
		t.Fatalf("GetItem i = %v, want 1", n)
	}
	for _, q := range []string{
		`{"TableName":"big","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"` + pk + `"}},"ScanIndexForward":false,"ProjectionExpression":"i"}`,
		`{"TableName":"big","IndexName":"gsi","KeyConditionExpression":"gpk = :p","ExpressionAttributeValues":{":p":{"S":"` + pk + `"}},"ScanIndexForward":false,"ProjectionExpression":"i"}`,
	} {
		items := do(t, e, "Query", q)["Items"].([]any)
		if len(items) != 2 || items[0].(map[string]any)["i"].(map[string]any)["N"] != "1" {
			t.Fatalf("Query %s: got %v, want 2 items, sort key descending", q[:40], items)
		}
	}
}

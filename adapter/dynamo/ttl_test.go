package dynamo

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dualread/dualread/adapter/store/btstore"
)

// TestTTLHidesExpiredItems: once the TTL attribute's time has passed, an
// item disappears from every read path, without waiting for a deletion.
func TestTTLHidesExpiredItems(t *testing.T) {
	ctx := context.Background()
	st, err := btstore.NewEmbedded(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var now atomic.Int64
	now.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix())
	e, err := New(ctx, st, Options{Now: func() time.Time { return time.Unix(now.Load(), 0) }})
	if err != nil {
		t.Fatal(err)
	}
	do(t, e, "CreateTable", `{"TableName":"ttl","BillingMode":"PAY_PER_REQUEST",
		"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],
		"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"S"}]}`)
	do(t, e, "UpdateTimeToLive", `{"TableName":"ttl","TimeToLiveSpecification":{"AttributeName":"exp","Enabled":true}}`)
	at := func(d int64) string { return strconv.FormatInt(now.Load()+d, 10) }
	do(t, e, "PutItem", `{"TableName":"ttl","Item":{"pk":{"S":"p"},"sk":{"S":"past"},"exp":{"N":"`+at(-10)+`"}}}`)
	do(t, e, "PutItem", `{"TableName":"ttl","Item":{"pk":{"S":"p"},"sk":{"S":"soon"},"exp":{"N":"`+at(100)+`"}}}`)
	do(t, e, "PutItem", `{"TableName":"ttl","Item":{"pk":{"S":"p"},"sk":{"S":"never"}}}`)
	do(t, e, "PutItem", `{"TableName":"ttl","Item":{"pk":{"S":"p"},"sk":{"S":"text"},"exp":{"S":"`+at(-10)+`"}}}`)

	visible := func() map[string]bool {
		seen := map[string]bool{}
		for _, sk := range []string{"past", "soon", "never", "text"} {
			got := do(t, e, "GetItem", `{"TableName":"ttl","Key":{"pk":{"S":"p"},"sk":{"S":"`+sk+`"}}}`)
			inGet := got["Item"] != nil
			tx := do(t, e, "TransactGetItems", `{"TransactItems":[{"Get":{"TableName":"ttl","Key":{"pk":{"S":"p"},"sk":{"S":"`+sk+`"}}}}]}`)
			inTx := tx["Responses"].([]any)[0].(map[string]any)["Item"] != nil
			if inGet != inTx {
				t.Errorf("%s: GetItem sees it %v, TransactGetItems %v", sk, inGet, inTx)
			}
			seen[sk] = inGet
		}
		for _, op := range []string{"Query", "Scan"} {
			body := `{"TableName":"ttl","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"p"}}}`
			if op == "Scan" {
				body = `{"TableName":"ttl"}`
			}
			n := 0
			for _, it := range do(t, e, op, body)["Items"].([]any) {
				n++
				if sk := it.(map[string]any)["sk"].(map[string]any)["S"].(string); !seen[sk] {
					t.Errorf("%s returns %s, which GetItem hides", op, sk)
				}
			}
			if want := count(seen); n != want {
				t.Errorf("%s returns %d items, want %d", op, n, want)
			}
		}
		return seen
	}
	// A TTL attribute that is not a number never expires the item.
	if got := visible(); got["past"] || !got["soon"] || !got["never"] || !got["text"] {
		t.Fatalf("before: visible = %v, want all but past", got)
	}
	now.Add(200)
	if got := visible(); got["past"] || got["soon"] || !got["never"] || !got["text"] {
		t.Fatalf("after 200 s: visible = %v, want never and text", got)
	}
}

func count(m map[string]bool) int {
	n := 0
	for _, v := range m {
		if v {
			n++
		}
	}
	return n
}

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dualread/dualread/internal/testenv"
)

// TestBadInput sends malformed, mistyped, oversized and hostile requests over
// real HTTP and checks that each gets DynamoDB's error (type and status),
// never a 500 or a hang, and that nothing is half-written. DynamoDB Local
// answers several of these with 500 InternalFailure, so this runs against the
// adapter only.
func TestBadInput(t *testing.T) {
	target := env.Target(t)
	if target.Kind != testenv.KindAdapter {
		t.Skip("DynamoDB Local answers malformed requests with 500; the adapter follows AWS")
	}
	c := testenv.NewRawClient(target.Endpoint)
	c.HTTP.Timeout = 30 * time.Second // a hang fails the test instead of stalling it
	ctx := context.Background()
	table := uniqueName(t, "bad")
	mustOK(t, c, "CreateTable", `{"TableName":"`+table+`","BillingMode":"PAY_PER_REQUEST",
		"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}]}`)
	t.Cleanup(func() { c.Do(ctx, "DeleteTable", []byte(`{"TableName":"`+table+`"}`)) })

	nest := func(depth int) string {
		return strings.Repeat(`{"M":{"a":`, depth) + `{"S":"x"}` + strings.Repeat(`}}`, depth)
	}
	big := strings.Repeat("x", 400*1024)
	cases := []struct {
		name, op, body string
		status         int
		errType        string
	}{
		{"malformed JSON", "PutItem", `{"TableName":`, 400, "SerializationException"},
		{"not an object", "PutItem", `[1,2]`, 400, "SerializationException"},
		{"wrong member type", "GetItem", `{"TableName":5,"Key":{"pk":{"S":"a"}}}`, 400, "SerializationException"},
		{"wrong value type", "PutItem", `{"TableName":"` + table + `","Item":{"pk":{"S":5}}}`, 400, "SerializationException"},
		{"empty attribute value", "PutItem", `{"TableName":"` + table + `","Item":{"pk":{"S":"a"},"v":{}}}`, 400, "ValidationException"},
		{"bad number", "PutItem", `{"TableName":"` + table + `","Item":{"pk":{"S":"a"},"v":{"N":"1e999"}}}`, 400, "ValidationException"},
		{"oversize item", "PutItem", `{"TableName":"` + table + `","Item":{"pk":{"S":"a"},"v":{"S":"` + big + `"}}}`, 400, "ValidationException"},
		{"deep nesting", "PutItem", `{"TableName":"` + table + `","Item":{"pk":{"S":"a"},"v":` + nest(40) + `}}`, 400, "ValidationException"},
		{"unknown operation", "FlyToTheMoon", `{}`, 400, "UnknownOperationException"},
		{"missing table", "GetItem", `{"TableName":"no_such_table","Key":{"pk":{"S":"a"}}}`, 400, "ResourceNotFoundException"},
		{"bad expression", "UpdateItem", `{"TableName":"` + table + `","Key":{"pk":{"S":"a"}},"UpdateExpression":"SET = 1"}`, 400, "ValidationException"},
		{"26 batch writes", "BatchWriteItem", batchOf(table, 26), 400, "ValidationException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := c.Do(ctx, tc.op, []byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			wantError(t, r, tc.status, tc.errType)
		})
	}

	t.Run("oversize request body", func(t *testing.T) {
		body := `{"TableName":"` + table + `","Item":{"pk":{"S":"a"},"v":{"S":"` + strings.Repeat("y", 16<<20) + `"}}}`
		r, err := c.Do(ctx, "PutItem", []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != 413 {
			t.Fatalf("status %d, want 413: %.200s", r.Status, r.Body)
		}
	})

	t.Run("no partial batch write", func(t *testing.T) {
		body := `{"RequestItems":{"` + table + `":[
			{"PutRequest":{"Item":{"pk":{"S":"partial-1"}}}},
			{"PutRequest":{"Item":{"pk":{"S":"partial-2"},"v":{"SS":[]}}}},
			{"PutRequest":{"Item":{"pk":{"S":"partial-3"}}}}]}}`
		r, err := c.Do(ctx, "BatchWriteItem", []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		wantError(t, r, 400, "ValidationException")
		for _, k := range []string{"partial-1", "partial-3"} {
			if got := mustOK(t, c, "GetItem", `{"TableName":"`+table+`","Key":{"pk":{"S":"`+k+`"}}}`); string(got) != "{}" {
				t.Errorf("%s was written by a failed batch: %s", k, got)
			}
		}
	})

	t.Run("no partial transaction", func(t *testing.T) {
		body := `{"TransactItems":[
			{"Put":{"TableName":"` + table + `","Item":{"pk":{"S":"tx-1"}}}},
			{"Update":{"TableName":"` + table + `","Key":{"pk":{"S":"tx-2"}},"UpdateExpression":"SET a.b = :v","ExpressionAttributeValues":{":v":{"S":"x"}}}}]}`
		r, err := c.Do(ctx, "TransactWriteItems", []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		wantError(t, r, 400, "TransactionCanceledException")
		if got := mustOK(t, c, "GetItem", `{"TableName":"`+table+`","Key":{"pk":{"S":"tx-1"}}}`); string(got) != "{}" {
			t.Errorf("tx-1 was written by a cancelled transaction: %s", got)
		}
	})
}

func batchOf(table string, n int) string {
	var b strings.Builder
	b.WriteString(`{"RequestItems":{"` + table + `":[`)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"PutRequest":{"Item":{"pk":{"S":"b%d"}}}}`, i)
	}
	b.WriteString("]}}")
	return b.String()
}

// wantError checks status, error type and the x-amz-crc32 of the body.
func wantError(t *testing.T, r testenv.RawResponse, status int, errType string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %.300s", r.Status, status, r.Body)
	}
	var e struct {
		Type string `json:"__type"`
	}
	if err := json.Unmarshal(r.Body, &e); err != nil {
		t.Fatalf("error body is not JSON: %.300s", r.Body)
	}
	if !strings.HasSuffix(e.Type, "#"+errType) {
		t.Fatalf("__type %q, want %s: %.300s", e.Type, errType, r.Body)
	}
	if got := r.Header.Get("X-Amz-Crc32"); got != strconv.FormatUint(uint64(crc32.ChecksumIEEE(r.Body)), 10) {
		t.Errorf("x-amz-crc32 %q does not match the body", got)
	}
}

func mustOK(t *testing.T, c *testenv.RawClient, op, body string) []byte {
	t.Helper()
	r, err := c.Do(context.Background(), op, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != 200 {
		t.Fatalf("%s: status %d: %.300s", op, r.Status, r.Body)
	}
	return r.Body
}

package ddbstreams

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/dualread/dualread/adapter/attr"
	"github.com/dualread/dualread/internal/testenv"
)

type ddbAnswer struct {
	Items            []attr.Item `json:"Items"`
	LastEvaluatedKey attr.Item   `json:"LastEvaluatedKey"`
}

func call(t *testing.T, ctx context.Context, ddb *testenv.RawClient, op, body string) ddbAnswer {
	t.Helper()
	resp, err := ddb.Do(ctx, op, []byte(body))
	if err != nil || resp.Status != 200 {
		t.Fatalf("%s %s: %v %d %s", op, body, err, resp.Status, resp.Body)
	}
	var a ddbAnswer
	if err := json.Unmarshal(resp.Body, &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// randomWrites makes n random changes on DynamoDB Local spread over tables
// (hash key "pk", string), from 4 writers owning disjoint keys: puts of
// varied items, updates with ADD/SET/REMOVE, deletes, two-item
// transactions. Many changes of one item fall in the same second (and the
// same minute, DynamoDB Local's resolution), which is what the stamper
// must order.
func randomWrites(ctx context.Context, ddb *testenv.RawClient, tables []string, n, keys int, seed uint64) error {
	const writers = 4
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(seed, uint64(w)))
			key := func() (string, string) {
				j := w + writers*rnd.IntN((keys+writers-1)/writers)
				return tables[j%len(tables)], fmt.Sprintf(`{"pk":{"S":"k%03d"}}`, j)
			}
			for i := range (n + writers - 1 - w) / writers {
				table, k := key()
				var op, body string
				switch r := rnd.IntN(10); {
				case r < 4:
					op = "PutItem"
					body = fmt.Sprintf(`{"TableName":%q,"Item":%s}`, table, item(k, rnd, i))
				case r < 7:
					op = "UpdateItem"
					body = fmt.Sprintf(`{"TableName":%q,"Key":%s,"UpdateExpression":"ADD n :one SET u = :u REMOVE b","ExpressionAttributeValues":{":one":{"N":"1"},":u":{"S":"w%d-%d"}}}`, table, k, w, i)
				case r < 9:
					op = "DeleteItem"
					body = fmt.Sprintf(`{"TableName":%q,"Key":%s}`, table, k)
				default:
					t2, k2 := key()
					if t2 == table && k2 == k {
						continue
					}
					op = "TransactWriteItems"
					body = fmt.Sprintf(`{"TransactItems":[{"Put":{"TableName":%q,"Item":%s}},{"Delete":{"TableName":%q,"Key":%s}}]}`,
						table, item(k, rnd, i), t2, k2)
				}
				if resp, err := ddb.Do(ctx, op, []byte(body)); err != nil || resp.Status != 200 {
					errs <- fmt.Errorf("%s: %v %d %s", op, err, resp.Status, resp.Body)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// item is a random item with key k (JSON of the key attributes).
func item(k string, rnd *rand.Rand, i int) string {
	attrs := []string{strings.TrimSuffix(strings.TrimPrefix(k, "{"), "}"), fmt.Sprintf(`"n":{"N":"%d"}`, rnd.IntN(1000)-500)}
	if rnd.IntN(2) == 0 {
		attrs = append(attrs, fmt.Sprintf(`"s":{"S":"v%d"}`, i), `"b":{"B":"AAEC/w=="}`)
	}
	if rnd.IntN(3) == 0 {
		attrs = append(attrs, `"ss":{"SS":["a","b"]}`, `"m":{"M":{"l":{"L":[{"N":"1.50"},{"BOOL":true},{"NULL":true}]}}}`)
	}
	return "{" + strings.Join(attrs, ",") + "}"
}

// scanAll reads a whole table (DynamoDB Local or the target, through do)
// as canonical JSON by key.
func scanAll(do func(op, body string) (ddbAnswer, error), table string) (map[string]string, error) {
	out := map[string]string{}
	var esk attr.Item
	for {
		body := fmt.Sprintf(`{"TableName":%q,"ConsistentRead":true}`, table)
		if esk != nil {
			body = fmt.Sprintf(`{"TableName":%q,"ConsistentRead":true,"ExclusiveStartKey":%s}`, table, esk.AppendJSON(nil))
		}
		a, err := do("Scan", body)
		if err != nil {
			return nil, err
		}
		for _, it := range a.Items {
			out[string(attr.Item{"pk": it["pk"]}.AppendJSON(nil))] = string(it.AppendJSON(nil))
		}
		if esk = a.LastEvaluatedKey; esk == nil {
			return out, nil
		}
	}
}

// diff describes how got differs from want ("" if equal).
func diff(want, got map[string]string) string {
	var bad []string
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			bad = append(bad, fmt.Sprintf("item %s: target %q, DynamoDB Local %q", k, g, w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			bad = append(bad, fmt.Sprintf("item %s resurrected or invented in target: %s", k, g))
		}
	}
	if len(bad) == 0 {
		return ""
	}
	return fmt.Sprintf("%d of %d items differ:\n%s", len(bad), len(want), strings.Join(bad[:min(5, len(bad))], "\n"))
}

package drill

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dualread/dualread/adapter/attr"
	"github.com/dualread/dualread/internal/sdkitem"
	"github.com/dualread/dualread/verify"
)

// sampleSegments splits DynamoDB's Scan for the sample: a random segment
// gives items from all over the key space, not the first ones in order.
const sampleSegments = 16

// maxSamples caps the example keys kept in the report.
const maxSamples = 10

// verify compares the two sides. "full" is verify.Run (every item, hashed
// ranges first); "sample" reads VerifySample items from DynamoDB and looks
// each up on the adapter with strong reads, which finds missing and
// different items at a daily cost of a few hundred reads but cannot see
// items only the adapter has.
func (d *run) verify(ctx context.Context, tr *TableReport, k *keySchema) (string, error) {
	var v *VerifyResult
	if d.cfg.Verify == "full" {
		rep, err := verify.Run(ctx, verify.Config{Source: d.cfg.DynamoDB, Target: d.cfg.Adapter, Table: tr.Name, SampleRows: maxSamples})
		if err != nil {
			return "", err
		}
		v = &VerifyResult{Mode: "full", Compared: rep.SourceItems, Missing: rep.Missing, Extra: rep.Extra, Different: rep.Different}
		for _, s := range rep.Samples {
			v.Samples = append(v.Samples, s.Kind+" "+string(s.Key))
		}
	} else {
		var err error
		if v, err = d.sample(ctx, tr.Name, k); err != nil {
			return "", err
		}
	}
	tr.Verify = v
	if !v.equal() {
		return "", fmt.Errorf("%s verify: %d missing, %d extra, %d different of %d compared (e.g. %v)", v.Mode, v.Missing, v.Extra, v.Different, v.Compared, v.Samples)
	}
	return fmt.Sprintf("%s verify: %d items equal", v.Mode, v.Compared), nil
}

func (d *run) sample(ctx context.Context, table string, k *keySchema) (*VerifyResult, error) {
	src, err := scanSample(ctx, d.cfg.DynamoDB, table, d.cfg.VerifySample)
	if err != nil {
		return nil, fmt.Errorf("DynamoDB scan: %w", err)
	}
	v := &VerifyResult{Mode: "sample"}
	var suspects []map[string]types.AttributeValue
	for start := 0; start < len(src); start += 100 {
		chunk := src[start:min(start+100, len(src))]
		got, err := batchGet(ctx, d.cfg.Adapter, table, k, chunk)
		if err != nil {
			return nil, fmt.Errorf("adapter: %w", err)
		}
		for _, it := range chunk {
			v.Compared++
			if other, ok := got[keyString(k, it)]; !ok || !sameItem(it, other) {
				suspects = append(suspects, it)
			}
		}
	}
	// The table is live: an item written between the scan and the lookup
	// differs for a moment. Like the audit's lag re-read, only what still
	// differs after the lag threshold counts.
	if len(suspects) > 0 {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(d.cfg.LagThreshold):
		}
	}
	for _, it := range suspects {
		key := keyOf(k, it)
		src, err := d.cfg.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)})
		if err != nil {
			return nil, fmt.Errorf("DynamoDB: %w", err)
		}
		dst, err := d.cfg.Adapter.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)})
		if err != nil {
			return nil, fmt.Errorf("adapter: %w", err)
		}
		kind := ""
		switch {
		case src.Item == nil && dst.Item == nil:
		case src.Item == nil:
			v.Extra++
			kind = "extra"
		case dst.Item == nil:
			v.Missing++
			kind = "missing"
		case !sameItem(src.Item, dst.Item):
			v.Different++
			kind = "different"
		}
		if kind != "" && len(v.Samples) < maxSamples {
			v.Samples = append(v.Samples, kind+" "+keyString(k, it))
		}
	}
	return v, nil
}

// keyOf is the item's primary key.
func keyOf(k *keySchema, it map[string]types.AttributeValue) map[string]types.AttributeValue {
	key := map[string]types.AttributeValue{k.hash: it[k.hash]}
	if k.rng != "" {
		key[k.rng] = it[k.rng]
	}
	return key
}

// scanSample reads up to n items from DynamoDB, starting at a random
// segment, skipping the drill's own markers.
func scanSample(ctx context.Context, c *dynamodb.Client, table string, n int) ([]map[string]types.AttributeValue, error) {
	first := rand.IntN(sampleSegments)
	var out []map[string]types.AttributeValue
	for i := 0; i < sampleSegments && len(out) < n; i++ {
		seg := int32((first + i) % sampleSegments)
		var start map[string]types.AttributeValue
		for len(out) < n {
			page, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table), Segment: aws.Int32(seg),
				TotalSegments: aws.Int32(sampleSegments), ExclusiveStartKey: start, ConsistentRead: aws.Bool(true),
				Limit: aws.Int32(int32(min(n-len(out), 1000)))})
			if err != nil {
				return nil, err
			}
			for _, it := range page.Items {
				if _, marker := it[markerAttr]; !marker {
					out = append(out, it)
				}
			}
			if start = page.LastEvaluatedKey; start == nil {
				break
			}
		}
	}
	return out, nil
}

// batchGet reads the items' keys from c with strong reads, retrying
// unprocessed keys, and returns them by keyString.
func batchGet(ctx context.Context, c *dynamodb.Client, table string, k *keySchema, items []map[string]types.AttributeValue) (map[string]map[string]types.AttributeValue, error) {
	keys := make([]map[string]types.AttributeValue, 0, len(items))
	for _, it := range items {
		keys = append(keys, keyOf(k, it))
	}
	got := map[string]map[string]types.AttributeValue{}
	req := map[string]types.KeysAndAttributes{table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
	for attempt := 0; len(req) > 0; attempt++ {
		if attempt == 10 {
			return nil, fmt.Errorf("BatchGetItem: keys still unprocessed after %d attempts", attempt)
		}
		out, err := c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return nil, err
		}
		for _, it := range out.Responses[table] {
			got[keyString(k, it)] = it
		}
		req = out.UnprocessedKeys
	}
	return got, nil
}

// keyString names an item by its primary key as canonical DynamoDB JSON
// (attr sorts attributes and canonicalises numbers), so "1.0" on one side
// and "1" on the other are the same key.
func keyString(k *keySchema, it map[string]types.AttributeValue) string {
	a, raw, err := sdkitem.ToItem(keyOf(k, it))
	if err != nil {
		return string(raw)
	}
	j, _ := a.MarshalJSON()
	return string(j)
}

// sameItem is DynamoDB equality of whole items: the same attributes, each
// equal as DynamoDB compares them (sets as sets, numbers by value).
func sameItem(a, b map[string]types.AttributeValue) bool {
	x, _, errA := sdkitem.ToItem(a)
	y, _, errB := sdkitem.ToItem(b)
	if errA != nil || errB != nil || len(x) != len(y) {
		return false
	}
	for n, v := range x {
		w, ok := y[n]
		if !ok || !attr.Equal(v, w) {
			return false
		}
	}
	return true
}

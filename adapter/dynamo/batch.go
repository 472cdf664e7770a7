package dynamo

import (
	"context"
	"sort"

	"github.com/dualread/dualread/adapter/attr"
	"github.com/dualread/dualread/adapter/ddberr"
	"github.com/dualread/dualread/adapter/expr"
)

const (
	maxBatchGetKeys   = 100
	maxBatchWriteReqs = 25
	// maxBatchGetBytes caps a BatchGetItem response; keys beyond it are
	// returned as UnprocessedKeys, as DynamoDB does at 16 MB.
	maxBatchGetBytes = 16 << 20
)

type keysAndAttributes struct {
	exprAttrs
	Keys                 []attr.Item `json:"Keys"`
	ProjectionExpression *string     `json:"ProjectionExpression"`
	AttributesToGet      []string    `json:"AttributesToGet"`
	ConsistentRead       bool        `json:"ConsistentRead"`
}

type batchGetRequest struct {
	RequestItems           map[string]*keysAndAttributes `json:"RequestItems"`
	ReturnConsumedCapacity string                        `json:"ReturnConsumedCapacity"`
}

func sortedTables[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (e *Executor) batchGetItem(ctx context.Context, req *batchGetRequest) (any, error) {
	if len(req.RequestItems) == 0 {
		return nil, ddberr.Validation("1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	type prepared struct {
		t    *table
		proj *expr.Projection
		ka   *keysAndAttributes
	}
	total := 0
	preps := map[string]prepared{}
	for _, name := range sortedTables(req.RequestItems) {
		ka := req.RequestItems[name]
		if !validName(name) {
			return nil, ddberr.Validation(invalidNameMsg)
		}
		if ka == nil || len(ka.Keys) == 0 {
			return nil, ddberr.Validation("1 validation error detected: Value '[]' at 'requestItems.%s.member.keys' failed to satisfy constraint: Member must have length greater than or equal to 1", name)
		}
		total += len(ka.Keys)
		if total > maxBatchGetKeys {
			return nil, ddberr.Validation("Too many items requested for the BatchGetItem call")
		}
		proj, err := readProjection(&ka.exprAttrs, ka.ProjectionExpression, ka.AttributesToGet)
		if err != nil {
			return nil, err
		}
		t, err := e.catalog.get(ctx, name)
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, k := range ka.Keys {
			if err := t.key.checkKey(k); err != nil {
				return nil, err
			}
			rk := string(t.key.rowKey(k))
			if seen[rk] {
				return nil, ddberr.Validation("Provided list of item keys contains duplicates")
			}
			seen[rk] = true
		}
		preps[name] = prepared{t, proj, ka}
	}
	responses := map[string][]attr.Item{}
	unprocessed := map[string]*keysAndAttributes{}
	units := map[string]float64{}
	size := 0
	for _, name := range sortedTables(preps) {
		pr := preps[name]
		responses[name] = []attr.Item{}
		for i, k := range pr.ka.Keys {
			if size >= maxBatchGetBytes {
				rest := *pr.ka
				rest.Keys = pr.ka.Keys[i:]
				unprocessed[name] = &rest
				break
			}
			item, err := e.readItem(ctx, pr.t, k)
			if err != nil {
				return nil, err
			}
			units[name] += readUnits(item.Size(), pr.ka.ConsistentRead)
			if item == nil {
				continue
			}
			size += item.Size()
			if pr.proj != nil {
				item = pr.proj.Apply(item)
			}
			responses[name] = append(responses[name], item)
		}
	}
	resp := map[string]any{"Responses": responses, "UnprocessedKeys": unprocessed}
	if caps := consumedList(req.ReturnConsumedCapacity, units); caps != nil {
		resp["ConsumedCapacity"] = caps
	}
	return resp, nil
}

type writeRequest struct {
	PutRequest *struct {
		Item attr.Item `json:"Item"`
	} `json:"PutRequest"`
	DeleteRequest *struct {
		Key attr.Item `json:"Key"`
	} `json:"DeleteRequest"`
}

type batchWriteRequest struct {
	RequestItems                map[string][]writeRequest `json:"RequestItems"`
	ReturnConsumedCapacity      string                    `json:"ReturnConsumedCapacity"`
	ReturnItemCollectionMetrics string                    `json:"ReturnItemCollectionMetrics"`
}

func (e *Executor) batchWriteItem(ctx context.Context, req *batchWriteRequest) (any, error) {
	if len(req.RequestItems) == 0 {
		return nil, ddberr.Validation("1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	total := 0
	for _, name := range sortedTables(req.RequestItems) {
		total += len(req.RequestItems[name])
	}
	if total > maxBatchWriteReqs {
		return nil, ddberr.Validation("Too many items requested for the BatchWriteItem call")
	}
	// Validate every request before applying any: a bad request fails the
	// whole batch with nothing written.
	var writes []*write
	var sizes []int
	var tables []string
	for _, name := range sortedTables(req.RequestItems) {
		wrs := req.RequestItems[name]
		if !validName(name) {
			return nil, ddberr.Validation(invalidNameMsg)
		}
		if len(wrs) == 0 {
			return nil, ddberr.Validation("1 validation error detected: Value '{%s=[]}' at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]", name)
		}
		t, err := e.catalog.get(ctx, name)
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, wr := range wrs {
			var w *write
			size := 0
			switch {
			case wr.PutRequest != nil && wr.DeleteRequest == nil:
				item := wr.PutRequest.Item
				if err := t.key.checkItemKey(item); err != nil {
					return nil, err
				}
				if size = item.Size(); size > maxItemSize {
					return nil, ddberr.Validation(itemTooLargeMsg)
				}
				if err := t.checkIndexKeys(item); err != nil {
					return nil, err
				}
				w = &write{t: t, key: t.key.keyOf(item), mutate: func(attr.Item) (attr.Item, error) { return item, nil }}
			case wr.DeleteRequest != nil && wr.PutRequest == nil:
				if err := t.key.checkKey(wr.DeleteRequest.Key); err != nil {
					return nil, err
				}
				w = &write{t: t, key: wr.DeleteRequest.Key, mutate: func(attr.Item) (attr.Item, error) { return nil, nil }}
			default:
				return nil, ddberr.Validation("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
			}
			rk := string(t.key.rowKey(w.key))
			if seen[rk] {
				return nil, ddberr.Validation("Provided list of item keys contains duplicates")
			}
			seen[rk] = true
			writes = append(writes, w)
			sizes = append(sizes, size)
			tables = append(tables, name)
		}
	}
	units := map[string]float64{}
	for i, w := range writes {
		res, err := e.runWrite(ctx, w)
		if err != nil {
			return nil, err
		}
		units[tables[i]] += writeUnits(max(sizes[i], res.old.Size()))
	}
	resp := map[string]any{"UnprocessedItems": map[string]any{}}
	if caps := consumedList(req.ReturnConsumedCapacity, units); caps != nil {
		resp["ConsumedCapacity"] = caps
	}
	return resp, nil
}

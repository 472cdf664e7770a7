package dynamo

import (
	"bytes"
	"context"
	"strings"

	"github.com/dualread/dualread/adapter/attr"
	"github.com/dualread/dualread/adapter/ddberr"
	"github.com/dualread/dualread/adapter/expr"
	"github.com/dualread/dualread/adapter/store"
)

// maxPageBytes is DynamoDB's 1 MB limit on the data a Query or Scan reads
// (before the filter) for one page.
const maxPageBytes = 1 << 20

type readParams struct {
	exprAttrs
	TableName              *string   `json:"TableName"`
	IndexName              *string   `json:"IndexName"`
	FilterExpression       *string   `json:"FilterExpression"`
	ConditionalOperator    *string   `json:"ConditionalOperator"`
	ProjectionExpression   *string   `json:"ProjectionExpression"`
	AttributesToGet        []string  `json:"AttributesToGet"`
	Select                 *string   `json:"Select"`
	Limit                  *int      `json:"Limit"`
	ExclusiveStartKey      attr.Item `json:"ExclusiveStartKey"`
	ConsistentRead         bool      `json:"ConsistentRead"`
	ReturnConsumedCapacity string    `json:"ReturnConsumedCapacity"`
}

type queryRequest struct {
	readParams
	KeyConditionExpression *string                         `json:"KeyConditionExpression"`
	KeyConditions          map[string]expr.LegacyCondition `json:"KeyConditions"`
	QueryFilter            map[string]expr.LegacyCondition `json:"QueryFilter"`
	ScanIndexForward       *bool                           `json:"ScanIndexForward"`
}

type scanRequest struct {
	readParams
	ScanFilter    map[string]expr.LegacyCondition `json:"ScanFilter"`
	Segment       *int                            `json:"Segment"`
	TotalSegments *int                            `json:"TotalSegments"`
}

// page is a prepared Query or Scan: where to read and what to do with rows.
type page struct {
	t      *table
	ix     *index // nil for the base table
	space  string
	rng    store.Range
	limit  int
	filter *expr.Condition
	proj   *expr.Projection
	count  bool // Select=COUNT
	fetch  bool // LSI read whose answer needs the table's item
	// fetchFilter: LSI Scan whose filter reads attributes the index does not
	// project; the filter sees the table's item, the answer stays projected.
	fetchFilter bool
	consist     bool
	// hashOnlyQuery is a Query on a base table without a sort key.
	hashOnlyQuery bool
	// endName/end: the sort key's inclusive bound in the direction of travel
	// (<=, >= or BETWEEN), if the key condition has one.
	endName string
	end     *attr.Value
	// match rejects rows outside the key condition that the range could not
	// exclude (never counted as scanned).
	match func(attr.Item) bool
}

// resolve finds the table and optional index and validates Select/projection.
func (e *Executor) resolve(ctx context.Context, op string, rp *readParams, filterLegacy map[string]expr.LegacyCondition,
	filterName string, legacyKey, modernKey bool) (*page, *expr.Params, error) {
	name, err := tableName(rp.TableName)
	if err != nil {
		return nil, nil, err
	}
	legacy := present(param{"AttributesToGet", rp.AttributesToGet != nil}, param{filterName, filterLegacy != nil},
		param{"KeyConditions", legacyKey})
	modern := present(param{"ProjectionExpression", rp.ProjectionExpression != nil}, param{"FilterExpression", rp.FilterExpression != nil},
		param{"KeyConditionExpression", modernKey})
	if err := checkExprMix(&rp.exprAttrs, legacy, modern); err != nil {
		return nil, nil, err
	}
	if rp.Limit != nil && *rp.Limit < 1 {
		return nil, nil, ddberr.Validation("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1", *rp.Limit)
	}
	p, err := rp.params()
	if err != nil {
		return nil, nil, err
	}
	pg := &page{consist: rp.ConsistentRead}
	if rp.Limit != nil {
		pg.limit = *rp.Limit
	}
	if pg.proj, err = projectionFor(rp.ProjectionExpression, rp.AttributesToGet, p); err != nil {
		return nil, nil, err
	}
	switch {
	case rp.FilterExpression != nil:
		pg.filter, err = expr.ParseFilter(*rp.FilterExpression, p)
	case filterLegacy != nil:
		op := ""
		if rp.ConditionalOperator != nil {
			op = *rp.ConditionalOperator
		}
		pg.filter, err = expr.FromFilter(filterLegacy, op)
	case rp.ConditionalOperator != nil:
		err = ddberr.Validation("ConditionalOperator can only be used when Filter or Expected is set")
	}
	if err != nil {
		return nil, nil, err
	}
	t, err := e.catalog.get(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	pg.t, pg.space = t, t.rec.Space
	if rp.IndexName != nil {
		ix, ok := t.indexes[*rp.IndexName]
		if !ok {
			return nil, nil, ddberr.Validation("The table does not have the specified index: %s", *rp.IndexName)
		}
		if ix.global && rp.ConsistentRead {
			return nil, nil, ddberr.Validation("Consistent reads are not supported on global secondary indexes")
		}
		pg.ix, pg.space = ix, ix.space
	}
	sel := "ALL_ATTRIBUTES"
	if pg.ix != nil {
		sel = "ALL_PROJECTED_ATTRIBUTES"
	}
	if pg.proj != nil {
		sel = "SPECIFIC_ATTRIBUTES"
	}
	if rp.Select != nil {
		switch *rp.Select {
		case "ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "COUNT", "SPECIFIC_ATTRIBUTES":
		default:
			return nil, nil, ddberr.Validation("1 validation error detected: Value '%s' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]", *rp.Select)
		}
		if pg.proj != nil && *rp.Select != "SPECIFIC_ATTRIBUTES" {
			return nil, nil, ddberr.Validation("Cannot specify the AttributesToGet or ProjectionExpression when choosing to get %s", *rp.Select)
		}
		if pg.proj == nil && *rp.Select == "SPECIFIC_ATTRIBUTES" {
			return nil, nil, ddberr.Validation("Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES")
		}
		if pg.ix == nil && *rp.Select == "ALL_PROJECTED_ATTRIBUTES" {
			return nil, nil, ddberr.Validation("ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName")
		}
		sel = *rp.Select
	}
	pg.count = sel == "COUNT"
	if err := pg.checkFilterProjected(); err != nil {
		// Only Query refuses these; DynamoDB lets a Scan of an LSI filter
		// on attributes it fetches from the table.
		if op == "Query" || pg.ix.global {
			return nil, nil, err
		}
		pg.fetchFilter = true
	}
	if pg.ix != nil && !pg.ix.all {
		switch {
		case sel == "ALL_ATTRIBUTES" && pg.ix.global:
			return nil, nil, ddberr.Validation("One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index %s because its projection type is not ALL", pg.ix.name)
		case sel == "ALL_ATTRIBUTES", sel == "SPECIFIC_ATTRIBUTES" && !pg.ix.global:
			// An LSI can serve any attribute by reading the base item, as DynamoDB does.
			pg.fetch = true
		}
	}
	return pg, p, nil
}

func (e *Executor) query(ctx context.Context, req *queryRequest) (any, error) {
	if req.KeyConditionExpression == nil && req.KeyConditions == nil {
		return nil, ddberr.Validation("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
	}
	pg, p, err := e.resolve(ctx, "Query", &req.readParams, req.QueryFilter, "QueryFilter", req.KeyConditions != nil, req.KeyConditionExpression != nil)
	if err != nil {
		return nil, err
	}
	var kc *expr.KeyCondition
	if req.KeyConditionExpression != nil {
		kc, err = expr.ParseKeyCondition(*req.KeyConditionExpression, p)
	} else {
		kc, err = expr.FromKeyConditions(req.KeyConditions)
	}
	if err != nil {
		return nil, err
	}
	if err := p.CheckUnused(); err != nil {
		return nil, err
	}
	schema := pg.t.key
	if pg.ix != nil {
		schema = pg.ix.key
	}
	if err := pg.keyRange(schema, kc); err != nil {
		return nil, err
	}
	pg.hashOnlyQuery = pg.ix == nil && schema.Range == ""
	if req.ScanIndexForward != nil && !*req.ScanIndexForward {
		pg.rng.Reverse = true
	}
	if pg.ix == nil {
		// Only a table's sort key is unique within a partition, so only there
		// does an item on the bound mean the range is exhausted.
		pg.setInclusiveEnd(kc, schema)
	}
	if req.ExclusiveStartKey != nil {
		k, err := pg.startKey(req.ExclusiveStartKey)
		if err != nil {
			return nil, err
		}
		if !pg.rng.Reverse && bytes.Compare(k, pg.rng.Start) < 0 || pg.rng.Reverse && pg.rng.End != nil && bytes.Compare(k, pg.rng.End) >= 0 {
			return nil, ddberr.Validation("The provided starting key does not match the range key predicate")
		}
		pg.startAfter(k)
	}
	return e.runPage(ctx, pg, req.ReturnConsumedCapacity)
}

func (e *Executor) scan(ctx context.Context, req *scanRequest) (any, error) {
	if req.Segment != nil || req.TotalSegments != nil {
		switch {
		case req.TotalSegments == nil:
			return nil, ddberr.Validation("The TotalSegments parameter is required but was not present in the request when Segment parameter is present")
		case req.Segment == nil:
			return nil, ddberr.Validation("The Segment parameter is required but was not present in the request when parameter TotalSegments is present")
		case *req.TotalSegments < 1 || *req.TotalSegments > 1000000:
			return nil, ddberr.Validation("1 validation error detected: Value '%d' at 'totalSegments' failed to satisfy constraint: Member must have value between 1 and 1000000", *req.TotalSegments)
		case *req.Segment < 0:
			return nil, ddberr.Validation("1 validation error detected: Value '%d' at 'segment' failed to satisfy constraint: Member must have value greater than or equal to 0", *req.Segment)
		case *req.Segment >= *req.TotalSegments:
			return nil, ddberr.Validation("The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: %d is not less than TotalSegments: %d", *req.Segment, *req.TotalSegments)
		}
	}
	pg, p, err := e.resolve(ctx, "Scan", &req.readParams, req.ScanFilter, "ScanFilter", false, false)
	if err != nil {
		return nil, err
	}
	if err := p.CheckUnused(); err != nil {
		return nil, err
	}
	if req.TotalSegments != nil {
		// Segments are ranges of the 2-byte partition hash: every item of a
		// partition falls in exactly one segment.
		lo := uint32(*req.Segment) * 65536 / uint32(*req.TotalSegments)
		hi := uint32(*req.Segment+1) * 65536 / uint32(*req.TotalSegments)
		if uint64(*req.Segment+1)*65536/uint64(*req.TotalSegments) != uint64(hi) {
			hi = uint32(uint64(*req.Segment+1) * 65536 / uint64(*req.TotalSegments))
		}
		pg.rng.Start = []byte{byte(lo >> 8), byte(lo)}
		if hi < 65536 {
			pg.rng.End = []byte{byte(hi >> 8), byte(hi)}
		}
		if lo == hi {
			pg.rng.End = pg.rng.Start
		}
	}
	if req.ExclusiveStartKey != nil {
		k, err := pg.startKey(req.ExclusiveStartKey)
		if err != nil {
			return nil, err
		}
		pg.startAfter(k)
	}
	return e.runPage(ctx, pg, req.ReturnConsumedCapacity)
}

// startAfter makes the range begin just after row key k (or end before it, reversed).
func (pg *page) startAfter(k []byte) {
	if pg.rng.Reverse {
		pg.rng.End = k
	} else {
		pg.rng.Start = append(append([]byte{}, k...), 0)
	}
}

// startKey turns ExclusiveStartKey into a row key of the space being read.
func (pg *page) startKey(esk attr.Item) ([]byte, error) {
	bad := func() error {
		return ddberr.Validation("The provided starting key is invalid: The provided key element does not match the schema")
	}
	want := map[string]attr.Type{pg.t.key.Hash: pg.t.key.HashType}
	if pg.t.key.Range != "" {
		want[pg.t.key.Range] = pg.t.key.RangeType
	}
	if pg.ix != nil {
		want[pg.ix.key.Hash] = pg.ix.key.HashType
		if pg.ix.key.Range != "" {
			want[pg.ix.key.Range] = pg.ix.key.RangeType
		}
	}
	if len(esk) != len(want) {
		return nil, bad()
	}
	for n, typ := range want {
		if v, ok := esk[n]; !ok || v.Type != typ {
			return nil, bad()
		}
	}
	if pg.ix == nil {
		return pg.t.key.rowKey(esk), nil
	}
	k, _ := pg.ix.indexRowKey(pg.t.key, esk)
	return k, nil
}

// keyRange validates a key condition against schema and turns it into pg.rng.
func (pg *page) keyRange(schema keySchema, kc *expr.KeyCondition) error {
	var hashCond, rangeCond *expr.KeyCond
	for i := range kc.Conds {
		c := &kc.Conds[i]
		switch c.Name {
		case schema.Hash:
			if hashCond != nil {
				return ddberr.Validation("KeyConditionExpressions must only contain one condition per key")
			}
			hashCond = c
		case schema.Range:
			if rangeCond != nil {
				return ddberr.Validation("KeyConditionExpressions must only contain one condition per key")
			}
			rangeCond = c
		default:
			return ddberr.Validation("Query condition missed key schema element")
		}
	}
	if hashCond == nil {
		return ddberr.Validation("Query condition missed key schema element")
	}
	if hashCond.Op != expr.OpEQ {
		return ddberr.Validation("Query key condition not supported")
	}
	for _, c := range kc.Conds {
		typ := schema.HashType
		if c.Name == schema.Range {
			typ = schema.RangeType
		}
		for _, v := range c.Values {
			if v.Type != typ {
				return ddberr.Validation("One or more parameter values were invalid: Condition parameter type does not match schema type")
			}
			if v.Type == attr.S && v.S == "" || v.Type == attr.B && len(v.B) == 0 {
				return ddberr.Validation("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty %s value. Key: %s", emptyKind(v.Type), c.Name)
			}
		}
	}
	prefix := partitionPrefix(hashCond.Values[0])
	pg.rng = store.Range{Start: prefix, End: successor(prefix)}
	if rangeCond == nil {
		return nil
	}
	at := func(v attr.Value) []byte { return attr.EncodeKey(append([]byte{}, prefix...), v) }
	v := rangeCond.Values
	switch rangeCond.Op {
	case expr.OpEQ:
		pg.rng = store.Range{Start: at(v[0]), End: successor(at(v[0]))}
	case expr.OpLT:
		pg.rng.End = at(v[0])
	case expr.OpLE:
		pg.rng.End = successor(at(v[0]))
	case expr.OpGT:
		pg.rng.Start = successor(at(v[0]))
	case expr.OpGE:
		pg.rng.Start = at(v[0])
	case expr.OpBetween:
		if c, _ := attr.Compare(v[0], v[1]); c > 0 {
			return ddberr.Validation("Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {%s:%s}, upper bound operand: AttributeValue: {%s:%s}",
				v[0].Type, scalarString(v[0]), v[1].Type, scalarString(v[1]))
		}
		pg.rng.Start, pg.rng.End = at(v[0]), successor(at(v[1]))
	case expr.OpBeginsWith:
		if schema.RangeType == attr.N {
			return ddberr.Validation("Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N")
		}
		pg.rng.Start = at(v[0])
		raw := []byte(v[0].S)
		if v[0].Type == attr.B {
			raw = v[0].B
		}
		if up := bytesSuccessor(raw); up != nil {
			upV := attr.Value{Type: v[0].Type, S: string(up), B: up}
			pg.rng.End = at(upV)
		}
		name, pfx := rangeCond.Name, v[0]
		pg.match = func(item attr.Item) bool { return hasPrefix(item[name], pfx) }
	}
	return nil
}

func scalarString(v attr.Value) string {
	if v.Type == attr.B {
		return string(v.B)
	}
	return v.S
}

func hasPrefix(v, p attr.Value) bool {
	switch {
	case v.Type == attr.S && p.Type == attr.S:
		return len(v.S) >= len(p.S) && v.S[:len(p.S)] == p.S
	case v.Type == attr.B && p.Type == attr.B:
		return bytes.HasPrefix(v.B, p.B)
	}
	return false
}

// successor is the smallest key greater than every key that has k as a prefix.
func successor(k []byte) []byte {
	if s := bytesSuccessor(k); s != nil {
		return s
	}
	return nil
}

// bytesSuccessor increments the last byte that is not 0xFF and truncates after
// it; nil when every byte is 0xFF (no upper bound).
func bytesSuccessor(b []byte) []byte {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] != 0xFF {
			out := append([]byte{}, b[:i+1]...)
			out[i]++
			return out
		}
	}
	return nil
}

// pageItem applies the filter and projection to one item read; keep is
// false when the filter rejects it (it still counts as scanned).
func (e *Executor) pageItem(ctx context.Context, pg *page, item attr.Item) (out attr.Item, keep bool, err error) {
	filterOn := item
	if pg.fetch || pg.fetchFilter {
		full, err := e.readItem(ctx, pg.t, pg.t.key.keyOf(item))
		if err != nil || full == nil {
			return nil, false, err
		}
		filterOn = full
		if pg.fetch {
			item = full
		}
	}
	if pg.filter != nil {
		ok, err := pg.filter.Eval(filterOn)
		if err != nil || !ok {
			return nil, false, err
		}
	}
	if pg.proj != nil {
		item = pg.proj.Apply(item)
	}
	return item, true, nil
}

// runPage reads one page: Limit and the 1 MB cap count items read before the
// filter, as in DynamoDB; LastEvaluatedKey is the last item read.
func (e *Executor) runPage(ctx context.Context, pg *page, capMode string) (any, error) {
	var (
		items   []attr.Item
		count   int
		scanned int
		bytesRd int
		last    attr.Item
		more    bool
	)
	for row, err := range e.st.Scan(ctx, pg.space, pg.rng) {
		if err != nil {
			if err == store.ErrNoSpace {
				return nil, errNoTable()
			}
			return nil, err
		}
		item, _, err := decodeRow(row.Value)
		if err != nil {
			return nil, err
		}
		if item == nil || e.expired(pg.t, item) || (pg.match != nil && !pg.match(item)) {
			continue
		}
		scanned++
		bytesRd += item.Size()
		last = item
		out, keep, err := e.pageItem(ctx, pg, item)
		if err != nil {
			return nil, err
		}
		if keep {
			count++
			if !pg.count {
				items = append(items, out)
			}
		}
		// DynamoDB returns LastEvaluatedKey whenever the page stops on Limit or
		// the 1 MB cap, even if no item follows.
		if pg.limit > 0 && scanned == pg.limit || bytesRd >= maxPageBytes {
			more = true
			break
		}
	}
	resp := map[string]any{"Count": count, "ScannedCount": scanned}
	if !pg.count {
		if items == nil {
			items = []attr.Item{}
		}
		resp["Items"] = items
	}
	// A hash-only table holds at most one item per partition, so a Query on
	// it can never have more to read; DynamoDB returns no LastEvaluatedKey.
	if pg.hashOnlyQuery {
		more = false
	}
	// DynamoDB also knows the range is exhausted when the last item read sits
	// on the key condition's inclusive bound in the direction of travel.
	if more && pg.end != nil && last != nil && attr.Equal(last[pg.endName], *pg.end) {
		more = false
	}
	if more && last != nil {
		lek := pg.t.key.keyOf(last)
		if pg.ix != nil {
			for _, n := range pg.ix.key.names() {
				lek[n] = last[n]
			}
		}
		resp["LastEvaluatedKey"] = lek
	}
	if c := consumed(capMode, pg.t.name, readUnits(bytesRd, pg.consist)); c != nil {
		resp["ConsumedCapacity"] = c
	}
	return resp, nil
}

// setInclusiveEnd records the sort key bound at which a Query in its
// direction of travel is known to be complete.
func (pg *page) setInclusiveEnd(kc *expr.KeyCondition, schema keySchema) {
	for _, c := range kc.Conds {
		if c.Name != schema.Range || schema.Range == "" {
			continue
		}
		switch {
		case c.Op == expr.OpLE && !pg.rng.Reverse, c.Op == expr.OpGE && pg.rng.Reverse:
			pg.end = &c.Values[0]
		case c.Op == expr.OpBetween && !pg.rng.Reverse:
			pg.end = &c.Values[1]
		case c.Op == expr.OpBetween && pg.rng.Reverse:
			pg.end = &c.Values[0]
		}
		pg.endName = c.Name
	}
}

// checkFilterProjected refuses a filter on attributes an index does not
// project (DynamoDB does not fetch them from the table for filtering).
func (pg *page) checkFilterProjected() error {
	if pg.ix == nil || pg.ix.all || pg.filter == nil {
		return nil
	}
	var missing []string
	for _, n := range pg.filter.Attributes() {
		if !pg.ix.projects(pg.t.key, n) {
			missing = append(missing, n)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return ddberr.Validation("One or more parameter values were invalid: Secondary index %s does not project one or more filter attributes: [%s]",
		pg.ix.name, strings.Join(missing, ", "))
}

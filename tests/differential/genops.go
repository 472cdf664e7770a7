package differential

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// Mode says how the runner executes an operation.
type Mode int

const (
	// Single is one request, compared exactly.
	Single Mode = iota
	// QueryPages follows LastEvaluatedKey and compares page by page.
	QueryPages
	// IndexQueryPages follows LastEvaluatedKey on a secondary index; items
	// with equal index keys have no specified order, so the concatenated
	// result is compared as a multiset, plus the sequence of index sort keys.
	IndexQueryPages
	// ScanPages follows LastEvaluatedKey over all segments and compares the
	// union as a multiset (Scan order is unspecified).
	ScanPages
)

// Op is one generated request.
type Op struct {
	Target   string // operation name, e.g. "PutItem"
	Body     map[string]any
	Mode     Mode
	Segments int    // ScanPages: TotalSegments, 0 for a plain Scan
	SortAttr string // IndexQueryPages: the index sort key attribute
}

// Next returns the next random operation. The mix keeps most requests valid,
// lets conditions fail now and then, and sends a few invalid requests.
func (g *Gen) Next() Op {
	r := g.intn(100)
	switch {
	case r < 16:
		return g.putItem()
	case r < 34:
		return g.updateItem()
	case r < 40:
		return g.deleteItem()
	case r < 52:
		return g.getItem()
	case r < 64:
		return g.query()
	case r < 70:
		return g.scan()
	case r < 75:
		return g.batchGet()
	case r < 81:
		return g.batchWrite()
	case r < 88:
		return g.transactWrite()
	case r < 92:
		return g.transactGet()
	default:
		return g.invalid()
	}
}

func (g *Gen) table() Table { return pick(g, g.tables) }

func (g *Gen) conditional(req map[string]any, e *exprCtx, p float64) {
	if g.chance(p) {
		req["ConditionExpression"] = e.condition(2)
		if g.chance(0.5) {
			req["ReturnValuesOnConditionCheckFailure"] = pick(g, []string{"ALL_OLD", "NONE"})
		}
	}
}

func (g *Gen) putItem() Op {
	t := g.table()
	e := g.newExpr()
	req := map[string]any{"TableName": t.Name, "Item": g.item(t)}
	if g.chance(0.5) {
		req["ReturnValues"] = pick(g, []string{"NONE", "ALL_OLD"})
	}
	if g.chance(0.1) {
		req["ConditionExpression"] = "attribute_not_exists(" + e.name(t.Hash) + ")"
	} else {
		g.conditional(req, e, 0.3)
	}
	e.apply(req)
	return Op{Target: "PutItem", Body: req}
}

func (g *Gen) updateItem() Op {
	t := g.table()
	e := g.newExpr()
	req := map[string]any{"TableName": t.Name, "Key": g.key(t), "UpdateExpression": e.updateExpression()}
	if g.chance(0.7) {
		req["ReturnValues"] = pick(g, []string{"NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"})
	}
	g.conditional(req, e, 0.3)
	e.apply(req)
	return Op{Target: "UpdateItem", Body: req}
}

func (g *Gen) deleteItem() Op {
	t := g.table()
	e := g.newExpr()
	req := map[string]any{"TableName": t.Name, "Key": g.key(t)}
	if g.chance(0.5) {
		req["ReturnValues"] = pick(g, []string{"NONE", "ALL_OLD"})
	}
	g.conditional(req, e, 0.35)
	e.apply(req)
	return Op{Target: "DeleteItem", Body: req}
}

func (g *Gen) getItem() Op {
	t := g.table()
	e := g.newExpr()
	req := map[string]any{"TableName": t.Name, "Key": g.key(t)}
	if g.chance(0.4) {
		req["ProjectionExpression"] = e.projection(t)
	}
	if g.chance(0.5) {
		req["ConsistentRead"] = g.chance(0.5)
	}
	e.apply(req)
	return Op{Target: "GetItem", Body: req}
}

// sortCondition is a key condition on a sort key attribute of type typ.
func (g *Gen) sortCondition(e *exprCtx, attr, typ string) string {
	v := func() any { return g.keyValue(typ, true) }
	if attr == "lsk" || attr == "gsk" {
		v = func() any { return avN(pick(g, indexNums)) }
	}
	switch k := g.intn(7); {
	case k < 5:
		return e.name(attr) + " " + pick(g, []string{"=", "<", "<=", ">", ">="}) + " " + e.value(v())
	case k == 5:
		lo, hi := v(), v()
		if keyLess(hi, lo) && !g.chance(0.1) {
			lo, hi = hi, lo
		}
		return e.name(attr) + " BETWEEN " + e.value(lo) + " AND " + e.value(hi)
	default:
		if typ == "N" {
			return e.name(attr) + " >= " + e.value(v())
		}
		prefix := v()
		if typ == "S" {
			prefix = avS(pick(g, []string{"a", "ab", "b", "", "z"}))
		}
		return "begins_with(" + e.name(attr) + ", " + e.value(prefix) + ")"
	}
}

func (g *Gen) query() Op {
	t := g.table()
	e := g.newExpr()
	req := map[string]any{"TableName": t.Name}
	hash, hashType, rng, rngType := t.Hash, t.HashType, t.Range, t.RangeType
	mode := QueryPages
	var ix *Index
	if len(t.Indexes) > 0 && g.chance(0.6) {
		ix = &t.Indexes[g.intn(len(t.Indexes))]
		req["IndexName"] = ix.Name
		hash, hashType, rng, rngType = ix.Hash, ix.HashType, ix.Range, ix.RangeType
		mode = IndexQueryPages
	}
	hv := g.keyValue(hashType, false)
	if hash == "gpk" {
		hv = avS(pick(g, gsiHashes))
	}
	kc := e.name(hash) + " = " + e.value(hv)
	if rng != "" && g.chance(0.7) {
		if g.chance(0.5) {
			kc += " AND " + g.sortCondition(e, rng, rngType)
		} else {
			kc = g.sortCondition(e, rng, rngType) + " AND " + kc
		}
	}
	req["KeyConditionExpression"] = kc
	if g.chance(0.5) {
		req["ScanIndexForward"] = g.chance(0.5)
	}
	if g.chance(0.4) {
		req["Limit"] = 1 + g.intn(4)
	}
	if g.chance(0.3) {
		req["FilterExpression"] = e.condition(1)
	}
	switch k := g.intn(10); {
	case k == 0:
		req["Select"] = "COUNT"
	case k == 1 && (ix == nil || ix.Projection == "ALL"):
		req["Select"] = "ALL_ATTRIBUTES"
	case k == 2 && ix != nil:
		req["Select"] = "ALL_PROJECTED_ATTRIBUTES"
	case k < 5:
		req["ProjectionExpression"] = e.projection(t)
		if g.chance(0.3) {
			req["Select"] = "SPECIFIC_ATTRIBUTES"
		}
	}
	if g.chance(0.3) && (ix == nil || !ix.Global) {
		req["ConsistentRead"] = true
	}
	e.apply(req)
	return Op{Target: "Query", Body: req, Mode: mode, SortAttr: rng}
}

func (g *Gen) scan() Op {
	t := g.table()
	e := g.newExpr()
	req := map[string]any{"TableName": t.Name}
	if len(t.Indexes) > 0 && g.chance(0.3) {
		req["IndexName"] = t.Indexes[g.intn(len(t.Indexes))].Name
	}
	if g.chance(0.4) {
		req["FilterExpression"] = e.condition(1)
	}
	if g.chance(0.4) {
		req["Limit"] = 1 + g.intn(7)
	}
	if g.chance(0.2) {
		req["Select"] = "COUNT"
	} else if g.chance(0.3) {
		req["ProjectionExpression"] = e.projection(t)
	}
	if g.chance(0.2) {
		req["ConsistentRead"] = true
	}
	e.apply(req)
	op := Op{Target: "Scan", Body: req, Mode: ScanPages}
	if g.chance(0.3) {
		op.Segments = 2 + g.intn(3)
	}
	return op
}

// distinctKeys draws up to n keys of t that differ from each other.
func (g *Gen) distinctKeys(t Table, n int, seen map[string]bool) []map[string]any {
	var out []map[string]any
	for i := 0; i < n*3 && len(out) < n; i++ {
		k := g.key(t)
		ks := keyString(t.Name, k)
		if !seen[ks] {
			seen[ks] = true
			out = append(out, k)
		}
	}
	return out
}

func (g *Gen) batchGet() Op {
	items := map[string]any{}
	seen := map[string]bool{}
	for i, n := 0, 1+g.intn(2); i < n; i++ {
		t := g.table()
		if _, dup := items[t.Name]; dup {
			continue
		}
		var keys []any
		for _, k := range g.distinctKeys(t, 1+g.intn(5), seen) {
			keys = append(keys, k)
		}
		ka := map[string]any{"Keys": keys}
		if g.chance(0.3) {
			e := g.newExpr()
			ka["ProjectionExpression"] = e.projection(t)
			if len(e.names) > 0 {
				ka["ExpressionAttributeNames"] = e.names
			}
		}
		if g.chance(0.3) {
			ka["ConsistentRead"] = true
		}
		items[t.Name] = ka
	}
	return Op{Target: "BatchGetItem", Body: map[string]any{"RequestItems": items}}
}

func (g *Gen) batchWrite() Op {
	items := map[string]any{}
	seen := map[string]bool{}
	for i, n := 0, 1+g.intn(2); i < n; i++ {
		t := g.table()
		if _, dup := items[t.Name]; dup {
			continue
		}
		var reqs []any
		for _, k := range g.distinctKeys(t, 1+g.intn(6), seen) {
			if g.chance(0.7) {
				it := g.item(t)
				for a, v := range k {
					it[a] = v
				}
				reqs = append(reqs, map[string]any{"PutRequest": map[string]any{"Item": it}})
			} else {
				reqs = append(reqs, map[string]any{"DeleteRequest": map[string]any{"Key": k}})
			}
		}
		items[t.Name] = reqs
	}
	return Op{Target: "BatchWriteItem", Body: map[string]any{"RequestItems": items}}
}

func (g *Gen) transactWrite() Op {
	seen := map[string]bool{}
	var acts []any
	for i, n := 0, 1+g.intn(4); i < n; i++ {
		t := g.table()
		ks := g.distinctKeys(t, 1, seen)
		if len(ks) == 0 {
			continue
		}
		k := ks[0]
		e := g.newExpr()
		var name string
		a := map[string]any{"TableName": t.Name}
		switch g.intn(4) {
		case 0:
			name = "Put"
			it := g.item(t)
			for n, v := range k {
				it[n] = v
			}
			a["Item"] = it
		case 1:
			name = "Update"
			a["Key"] = k
			a["UpdateExpression"] = e.updateExpression()
		case 2:
			name = "Delete"
			a["Key"] = k
		default:
			name = "ConditionCheck"
			a["Key"] = k
			a["ConditionExpression"] = e.condition(1)
		}
		if name != "ConditionCheck" && g.chance(0.25) {
			a["ConditionExpression"] = e.condition(1)
		}
		if _, ok := a["ConditionExpression"]; ok && g.chance(0.5) {
			a["ReturnValuesOnConditionCheckFailure"] = pick(g, []string{"ALL_OLD", "NONE"})
		}
		e.apply(a)
		acts = append(acts, map[string]any{name: a})
	}
	req := map[string]any{"TransactItems": acts}
	if g.chance(0.2) {
		req["ClientRequestToken"] = fmt.Sprintf("t%08x-%d", g.run, g.rng.Uint64())
	}
	return Op{Target: "TransactWriteItems", Body: req}
}

func (g *Gen) transactGet() Op {
	seen := map[string]bool{}
	var acts []any
	for i, n := 0, 1+g.intn(4); i < n; i++ {
		t := g.table()
		ks := g.distinctKeys(t, 1, seen)
		if len(ks) == 0 {
			continue
		}
		get := map[string]any{"TableName": t.Name, "Key": ks[0]}
		if g.chance(0.3) {
			e := g.newExpr()
			get["ProjectionExpression"] = e.projection(t)
			if len(e.names) > 0 {
				get["ExpressionAttributeNames"] = e.names
			}
		}
		acts = append(acts, map[string]any{"Get": get})
	}
	return Op{Target: "TransactGetItems", Body: map[string]any{"TransactItems": acts}}
}

// invalid is a request DynamoDB must reject; the sides must reject it the
// same way (status, error type and message). Not generated: two actions on
// one item in a transaction, which AWS rejects (documented) but DynamoDB
// Local executes; tests/e2e covers it.
func (g *Gen) invalid() Op {
	t := g.table()
	e := g.newExpr()
	switch g.intn(16) {
	case 0: // syntax error
		req := map[string]any{"TableName": t.Name, "Key": g.key(t), "UpdateExpression": pick(g, []string{"SET a = ", "SET = :x", "REMOVE", "ADD a", "SET a = :x,", "SET a = b +", "DELETE a :x :y", "SET a == :x"})}
		if strings.Contains(req["UpdateExpression"].(string), ":x") {
			req["ExpressionAttributeValues"] = map[string]any{":x": avN("1")}
		}
		return Op{Target: "UpdateItem", Body: req}
	case 1: // unused value
		req := map[string]any{"TableName": t.Name, "Key": g.key(t), "ExpressionAttributeValues": map[string]any{":unused": avS("x")}}
		return Op{Target: "GetItem", Body: req}
	case 2: // unused name
		req := map[string]any{"TableName": t.Name, "Key": g.key(t), "ConditionExpression": "attribute_exists(n)", "ExpressionAttributeNames": map[string]any{"#u": "u"}}
		return Op{Target: "DeleteItem", Body: req}
	case 3: // undefined value placeholder
		return Op{Target: "UpdateItem", Body: map[string]any{"TableName": t.Name, "Key": g.key(t), "UpdateExpression": "SET n = :missing"}}
	case 4: // wrong key type
		k := g.key(t)
		k[t.Hash] = avN("1")
		if t.HashType == "N" {
			k[t.Hash] = avS("1")
		}
		return Op{Target: pick(g, []string{"GetItem", "DeleteItem"}), Body: map[string]any{"TableName": t.Name, "Key": k}}
	case 5: // missing key attribute
		it := g.item(t)
		missing := t.Hash
		if t.Range != "" && g.chance(0.5) {
			missing = t.Range
		}
		delete(it, missing)
		return Op{Target: "PutItem", Body: map[string]any{"TableName": t.Name, "Item": it}}
	case 6: // extra attribute in key
		k := g.key(t)
		k["n"] = avN("1")
		return Op{Target: "GetItem", Body: map[string]any{"TableName": t.Name, "Key": k}}
	case 7: // oversize item (> 400 KB)
		it := g.key(t)
		it["big"] = avS(strings.Repeat("x", 400*1024+g.intn(2000)))
		return Op{Target: "PutItem", Body: map[string]any{"TableName": t.Name, "Item": it}}
	case 8: // too many batch items
		var reqs []any
		for i := 0; i < 26; i++ {
			it := map[string]any{"pk": avS(fmt.Sprint("many", i))}
			reqs = append(reqs, map[string]any{"PutRequest": map[string]any{"Item": it}})
		}
		return Op{Target: "BatchWriteItem", Body: map[string]any{"RequestItems": map[string]any{g.tables[0].Name: reqs}}}
	case 9: // duplicate keys in a batch
		k := g.key(t)
		return Op{Target: "BatchGetItem", Body: map[string]any{"RequestItems": map[string]any{t.Name: map[string]any{"Keys": []any{k, k}}}}}
	case 10: // reserved word used directly
		req := map[string]any{"TableName": t.Name, "Key": g.key(t), "UpdateExpression": "SET status = :v", "ExpressionAttributeValues": map[string]any{":v": avS("x")}}
		return Op{Target: "UpdateItem", Body: req}
	case 11: // updating a key attribute
		req := map[string]any{"TableName": t.Name, "Key": g.key(t), "UpdateExpression": "SET " + e.name(t.Hash) + " = " + e.value(g.keyValue(t.HashType, false))}
		e.apply(req)
		return Op{Target: "UpdateItem", Body: req}
	case 12: // empty set / duplicate set members / bad number
		it := g.item(t)
		it["v"] = pick(g, []any{map[string]any{"SS": []any{}}, map[string]any{"SS": []any{"a", "a"}}, avN("1e400"), avN("12345678901234567890123456789012345678901"), avN("abc"), map[string]any{"NS": []any{"1", "1.0"}}})
		return Op{Target: "PutItem", Body: map[string]any{"TableName": t.Name, "Item": it}}
	case 13: // overlapping update paths
		req := map[string]any{"TableName": t.Name, "Key": g.key(t), "UpdateExpression": "SET m.x = :a, m = :b", "ExpressionAttributeValues": map[string]any{":a": avN("1"), ":b": map[string]any{"M": map[string]any{}}}}
		return Op{Target: "UpdateItem", Body: req}
	case 14: // unknown index
		req := map[string]any{"TableName": t.Name, "IndexName": "nope", "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": map[string]any{":p": avS("p0")}}
		return Op{Target: "Query", Body: req}
	default: // unknown table
		return Op{Target: "GetItem", Body: map[string]any{"TableName": "e2e_no_such_table", "Key": map[string]any{"pk": avS("x")}}}
	}
}

// keyLess orders two key values as DynamoDB does: N numerically, S and B by
// bytes (base64 text does not preserve byte order, so B is decoded).
func keyLess(a, b any) bool {
	am, _ := a.(map[string]any)
	bm, _ := b.(map[string]any)
	switch {
	case am["N"] != nil:
		x, _ := strconv.ParseFloat(am["N"].(string), 64)
		y, _ := strconv.ParseFloat(bm["N"].(string), 64)
		return x < y
	case am["B"] != nil:
		x, _ := base64.StdEncoding.DecodeString(am["B"].(string))
		y, _ := base64.StdEncoding.DecodeString(bm["B"].(string))
		return string(x) < string(y)
	default:
		x, _ := am["S"].(string)
		y, _ := bm["S"].(string)
		return x < y
	}
}

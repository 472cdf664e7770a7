package diff

import (
	"strings"

	"github.com/dualread/dualread/proto/auditpb"
)

// parseSide reads one response: the body is decoded once (decodeTree) and
// the tree is normalised where it stands. Bodies the fast path does not
// reproduce exactly (errors, invalid JSON, duplicate keys, members that
// encoding/json would match case-insensitively) take parseSideSlow.
func parseSide(op string, r *auditpb.Response, colls []collection) *side {
	if Failed(r) {
		return parseSideSlow(op, r, colls)
	}
	tree, ok := decodeTree(r.GetBodyJson())
	if !ok {
		return parseSideSlow(op, r, colls)
	}
	var top map[string]any
	switch t := tree.(type) {
	case nil: // a JSON null body reads as an empty object, as before
	case map[string]any:
		top = t
	default:
		return parseSideSlow(op, r, colls)
	}
	sd := &side{doc: Doc{}, items: map[string][]any{}}
	for _, c := range colls {
		sd.items[strings.Join(c.path, "/")] = []any{} // present even if the body lacks it
	}
	for k, v := range top {
		switch {
		case k == "ConsumedCapacity":
		case k == "Item" || k == "LastEvaluatedKey":
			sd.doc[k] = itemFromTree(v)
			sd.paged = sd.paged || (k == "LastEvaluatedKey" && v != nil)
		case k == "Items" && (op == "Query" || op == "Scan"):
			switch l := v.(type) {
			case nil:
			case []any:
				for _, it := range l {
					sd.items["Items"] = append(sd.items["Items"], itemFromTree(it))
				}
			default:
				sd.doc[k] = v
			}
		case k == "Responses" && op == "BatchGetItem":
			per, ok := tableLists(v)
			if !ok {
				sd.doc[k] = v
				continue
			}
			for table, items := range per {
				p := "Responses/" + table
				for _, it := range items {
					sd.items[p] = append(sd.items[p], itemFromTree(it))
				}
			}
		case k == "UnprocessedKeys" && op == "BatchGetItem":
			per, ok, exact := unprocessedKeys(v)
			if !exact {
				return parseSideSlow(op, r, colls)
			}
			if !ok {
				sd.doc[k] = v
				continue
			}
			sd.unprocessed = map[string][]any{}
			for table, keys := range per {
				for _, key := range keys {
					sd.unprocessed[table] = append(sd.unprocessed[table], itemFromTree(key))
				}
			}
		case k == "Responses" && op == "TransactGetItems":
			l, ok, exact := transactItems(v)
			if !exact {
				return parseSideSlow(op, r, colls)
			}
			if !ok {
				sd.doc[k] = v
				continue
			}
			sd.doc[k] = l
		default:
			sd.doc[k] = v
		}
	}
	return sd
}

// tableLists is what json.Unmarshal into map[string][]json.RawMessage
// accepts: an object (or null) of arrays (or nulls).
func tableLists(v any) (map[string][]any, bool) {
	if v == nil {
		return nil, true
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	out := make(map[string][]any, len(m))
	for t, x := range m {
		switch l := x.(type) {
		case nil:
			out[t] = nil
		case []any:
			out[t] = l
		default:
			return nil, false
		}
	}
	return out, true
}

// field finds the struct field name encoding/json would fill from m: exact
// is false when a differently cased spelling is present (encoding/json
// matches those too; the slow path decides).
func field(m map[string]any, name string) (v any, present, exact bool) {
	for k, x := range m {
		if k == name {
			v, present = x, true
		} else if strings.EqualFold(k, name) {
			return nil, false, false
		}
	}
	return v, present, true
}

// unprocessedKeys is json.Unmarshal into map[string]struct{Keys
// []json.RawMessage}: ok false where that fails, exact false where the fast
// path leaves the decision to it.
func unprocessedKeys(v any) (per map[string][]any, ok, exact bool) {
	if v == nil {
		return nil, true, true
	}
	m, isMap := v.(map[string]any)
	if !isMap {
		return nil, false, true
	}
	per = make(map[string][]any, len(m))
	for t, x := range m {
		if x == nil {
			per[t] = nil
			continue
		}
		tm, isMap := x.(map[string]any)
		if !isMap {
			return nil, false, true
		}
		keys, _, ex := field(tm, "Keys")
		if !ex {
			return nil, false, false
		}
		switch l := keys.(type) {
		case nil:
			per[t] = nil
		case []any:
			per[t] = l
		default:
			return nil, false, true
		}
	}
	return per, true, true
}

// transactItems is json.Unmarshal into []struct{Item json.RawMessage}, then
// each present Item (null included) read as an item.
func transactItems(v any) (out []any, ok, exact bool) {
	if v == nil {
		return []any{}, true, true
	}
	l, isList := v.([]any)
	if !isList {
		return nil, false, true
	}
	out = make([]any, len(l))
	for i, x := range l {
		e := map[string]any{}
		switch r := x.(type) {
		case nil:
		case map[string]any:
			it, present, ex := field(r, "Item")
			if !ex {
				return nil, false, false
			}
			if present {
				e["Item"] = itemFromTree(it)
			}
		default:
			return nil, false, true
		}
		out[i] = e
	}
	return out, true, true
}

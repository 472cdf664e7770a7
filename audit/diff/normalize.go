package diff

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/dualread/dualread/proto/auditpb"
)

// Doc is one side's normalised answer: a generic JSON tree (maps, slices,
// strings, bools, json.Number) that jsondiff compares.
type Doc = map[string]any

// collection is a list of items within a response that is compared by item
// identity rather than by position: Query/Scan "Items", and each table's list
// in BatchGetItem "Responses".
type collection struct {
	path     []string // where the keyed map goes in the Doc
	keyAttrs []string // how items are named; nil for whole-item matching
	ordered  bool     // Query: item order is part of the answer
}

// side is one response after parsing, before alignment.
type side struct {
	doc    Doc
	items  map[string][]any // collection path (joined by "/") → item trees
	failed bool
	// paged: the answer has a LastEvaluatedKey (seen before ignore rules).
	paged bool
	// unprocessed holds BatchGetItem UnprocessedKeys as item keys per table.
	unprocessed map[string][]any
}

// Normalize turns both responses of a record into comparable Docs:
// ConsumedCapacity removed, numbers canonical, sets sorted, item lists keyed
// by primary key (Scan and BatchGetItem thus compare as multisets; Query keeps
// its order in "ItemOrder" only when the two orders of common items differ),
// BatchGetItem keys that either side left unprocessed removed from both, and
// error answers reduced to their short type and message. The ignore rules
// that apply to the record's table and operation are then applied.
func Normalize(rec *auditpb.Record, opts *Options) (primary, shadow Doc) {
	p, s := normalize(rec, opts)
	return p.doc, s.doc
}

func normalize(rec *auditpb.Record, opts *Options) (p, s *side) {
	colls := collectionsFor(rec)
	p = parseSide(rec.GetOperation(), rec.GetPrimary(), colls)
	s = parseSide(rec.GetOperation(), rec.GetShadow(), colls)
	if !p.failed && !s.failed {
		align(p, s, colls)
	}
	if opts != nil {
		for _, r := range opts.rulesFor(rec.GetTable(), rec.GetOperation()) {
			r.apply(p.doc)
			r.apply(s.doc)
		}
	}
	return p, s
}

// Failed reports whether a response is an error or missing: anything but a
// 2xx answer with a body.
func Failed(r *auditpb.Response) bool {
	if r == nil || r.GetError() != nil {
		return true
	}
	return r.GetStatus() != 0 && (r.GetStatus() < 200 || r.GetStatus() > 299)
}

// collectionsFor decides, from the operation and the request, which item
// lists are aligned and by which attributes. Key names come from the
// request where it names keys (BatchGetItem), else from the record.
func collectionsFor(rec *auditpb.Record) []collection {
	keys := rec.GetKeyAttributes()
	switch rec.GetOperation() {
	case "Query":
		return []collection{{path: []string{"Items"}, keyAttrs: keys, ordered: true}}
	case "Scan":
		return []collection{{path: []string{"Items"}, keyAttrs: keys}}
	case "BatchGetItem":
		var req struct {
			RequestItems map[string]struct {
				Keys []map[string]json.RawMessage
			}
		}
		_ = json.Unmarshal(rec.GetRequestJson(), &req)
		var out []collection
		for table, ka := range req.RequestItems {
			var names []string
			if len(ka.Keys) > 0 {
				for n := range ka.Keys[0] {
					names = append(names, n)
				}
				slices.Sort(names)
			}
			out = append(out, collection{path: []string{"Responses", table}, keyAttrs: names})
		}
		slices.SortFunc(out, func(a, b collection) int { return strings.Compare(a.path[1], b.path[1]) })
		return out
	}
	return nil
}

// parseSideSlow is the reference reading of one response, through
// encoding/json and attr's item decoder; parseSide (fastside.go) gives the
// same result from one pass over the body and falls back to this for
// anything unusual. FuzzParseSide holds the two together.
func parseSideSlow(op string, r *auditpb.Response, colls []collection) *side {
	sd := &side{doc: Doc{}, items: map[string][]any{}}
	if Failed(r) {
		sd.failed = true
		e := r.GetError()
		typ, msg := e.GetType(), e.GetMessage()
		if e == nil && r != nil {
			// A non-2xx answer carried as a body: read DynamoDB's error shape.
			var eb struct {
				Type     string `json:"__type"`
				Message  string `json:"message"`
				Message2 string `json:"Message"`
			}
			_ = json.Unmarshal(r.GetBodyJson(), &eb)
			typ, msg = eb.Type, eb.Message+eb.Message2
		}
		if r == nil {
			typ = "dualread#NoResponse"
		}
		// The namespace before '#' differs between DynamoDB and its
		// emulations (com.amazonaws.dynamodb.v20120810# vs
		// com.amazon.coral.validate#) for the same error.
		if i := strings.LastIndexByte(typ, '#'); i >= 0 {
			typ = typ[i+1:]
		}
		sd.doc["error"] = map[string]any{"type": typ, "message": msg}
		return sd
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(r.GetBodyJson(), &top); err != nil {
		sd.doc["$invalid"] = string(r.GetBodyJson())
		return sd
	}
	delete(top, "ConsumedCapacity")
	for _, c := range colls {
		sd.items[strings.Join(c.path, "/")] = []any{} // present even if the body lacks it
	}
	for k, raw := range top {
		switch {
		case k == "Item" || k == "LastEvaluatedKey":
			sd.doc[k] = parseItem(raw)
			sd.paged = sd.paged || (k == "LastEvaluatedKey" && string(raw) != "null")
		case k == "Items" && (op == "Query" || op == "Scan"):
			var items []json.RawMessage
			if json.Unmarshal(raw, &items) != nil {
				sd.doc[k] = genericJSON(raw)
				continue
			}
			for _, it := range items {
				sd.items["Items"] = append(sd.items["Items"], parseItem(it))
			}
		case k == "Responses" && op == "BatchGetItem":
			var per map[string][]json.RawMessage
			if json.Unmarshal(raw, &per) != nil {
				sd.doc[k] = genericJSON(raw)
				continue
			}
			for table, items := range per {
				p := "Responses/" + table
				for _, it := range items {
					sd.items[p] = append(sd.items[p], parseItem(it))
				}
			}
		case k == "UnprocessedKeys" && op == "BatchGetItem":
			var per map[string]struct{ Keys []json.RawMessage }
			if json.Unmarshal(raw, &per) != nil {
				sd.doc[k] = genericJSON(raw)
				continue
			}
			sd.unprocessed = map[string][]any{}
			for table, ka := range per {
				for _, key := range ka.Keys {
					sd.unprocessed[table] = append(sd.unprocessed[table], parseItem(key))
				}
			}
		case k == "Responses" && op == "TransactGetItems":
			var rs []struct{ Item json.RawMessage }
			if json.Unmarshal(raw, &rs) != nil {
				sd.doc[k] = genericJSON(raw)
				continue
			}
			l := make([]any, len(rs))
			for i, x := range rs {
				e := map[string]any{}
				if len(x.Item) > 0 {
					e["Item"] = parseItem(x.Item)
				}
				l[i] = e
			}
			sd.doc[k] = l
		default:
			sd.doc[k] = genericJSON(raw)
		}
	}
	return sd
}

// align turns each collection's item lists into maps keyed by item identity,
// the same naming on both sides. Key attributes are used only if every item
// on both sides has them all (a projection may leave keys out); otherwise
// items are named by a digest of their whole content.
func align(p, s *side, colls []collection) {
	for _, c := range colls {
		name := strings.Join(c.path, "/")
		pi, si := p.items[name], s.items[name]
		if len(c.path) == 2 && c.path[0] == "Responses" {
			// Keys one side could not read this time say nothing about the
			// data: drop them from both sides.
			skip := map[string]bool{}
			for _, u := range [][]any{p.unprocessed[c.path[1]], s.unprocessed[c.path[1]]} {
				for _, k := range u {
					skip[itemKey(k, c.keyAttrs)] = true
				}
			}
			pi = dropKeys(pi, skip, c.keyAttrs)
			si = dropKeys(si, skip, c.keyAttrs)
		}
		keyAttrs := c.keyAttrs
		if !allHaveKeys(pi, keyAttrs) || !allHaveKeys(si, keyAttrs) {
			keyAttrs = nil
		}
		pm, porder := keyed(pi, keyAttrs)
		sm, sorder := keyed(si, keyAttrs)
		setPath(p.doc, c.path, pm)
		setPath(s.doc, c.path, sm)
		if c.ordered {
			pc, sc := common(porder, sm), common(sorder, pm)
			if !slices.Equal(pc, sc) {
				p.doc["ItemOrder"] = stringsAny(pc)
				s.doc["ItemOrder"] = stringsAny(sc)
			}
		}
	}
	delete(p.doc, "UnprocessedKeys")
	delete(s.doc, "UnprocessedKeys")
}

func dropKeys(items []any, skip map[string]bool, keyAttrs []string) []any {
	if len(skip) == 0 {
		return items
	}
	out := items[:0:0]
	for _, it := range items {
		if !skip[itemKey(it, keyAttrs)] {
			out = append(out, it)
		}
	}
	return out
}

func allHaveKeys(items []any, keyAttrs []string) bool {
	if len(keyAttrs) == 0 {
		return false
	}
	for _, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			return false
		}
		for _, k := range keyAttrs {
			if _, ok := m[k]; !ok {
				return false
			}
		}
	}
	return true
}

// keyed names each item; a name seen again gets " #2", " #3"..., so a
// duplicated item is an extra item rather than silently merged.
func keyed(items []any, keyAttrs []string) (map[string]any, []string) {
	m := make(map[string]any, len(items))
	order := make([]string, 0, len(items))
	for _, it := range items {
		k := itemKey(it, keyAttrs)
		if _, dup := m[k]; dup {
			for n := 2; ; n++ {
				kk := fmt.Sprintf("%s #%d", k, n)
				if _, dup := m[kk]; !dup {
					k = kk
					break
				}
			}
		}
		m[k] = it
		order = append(order, k)
	}
	return m, order
}

// common keeps the names in order that the other side also has.
func common(order []string, other map[string]any) []string {
	out := make([]string, 0, len(order))
	for _, k := range order {
		if _, ok := other[k]; ok {
			out = append(out, k)
		}
	}
	return out
}

func setPath(doc Doc, path []string, v any) {
	m := doc
	for _, p := range path[:len(path)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[path[len(path)-1]] = v
}

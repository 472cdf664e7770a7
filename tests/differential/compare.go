package differential

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Response is one HTTP answer to compare.
type Response struct {
	Status int
	Body   []byte
}

// Difference is one place where the two answers disagree. A is the oracle's
// side (DynamoDB Local), B the side under test.
type Difference struct {
	Path string
	A, B string
	Note string
}

func (d Difference) String() string {
	s := fmt.Sprintf("%s: %s != %s", d.Path, d.A, d.B)
	if d.Note != "" {
		s += " (" + d.Note + ")"
	}
	return s
}

// Compare reports every difference between two answers after normalising
// what DynamoDB leaves unspecified or that is not part of the contract:
//   - ConsumedCapacity is dropped;
//   - __type is cut to its short name, and "Message" vs "message" is one key
//     (DynamoDB Local spells it both ways; SDKs accept either);
//   - SS/NS/BS are compared as sets, BatchGetItem's per-table Responses as
//     multisets (AWS gives no order for either);
//   - numbers are compared by value, and a different spelling of an equal
//     value is still reported, as "number spelling": DynamoDB always answers
//     in canonical form, which clients can see.
func Compare(a, b Response) []Difference {
	var diffs []Difference
	if a.Status != b.Status {
		diffs = append(diffs, Difference{Path: "status", A: fmt.Sprint(a.Status), B: fmt.Sprint(b.Status)})
	}
	na, errA := normalizeBody(a.Body)
	nb, errB := normalizeBody(b.Body)
	if errA != nil || errB != nil {
		if !bytes.Equal(a.Body, b.Body) {
			diffs = append(diffs, Difference{Path: "body", A: string(a.Body), B: string(b.Body), Note: "not both JSON"})
		}
		return diffs
	}
	compareValues("$", na, nb, &diffs)
	return diffs
}

// Normalized returns the normalised form of a body, for reports and for
// multiset keys.
func Normalized(body []byte) (any, error) { return normalizeBody(body) }

// num is a normalised N value: compared by Canon, spelling reported apart.
type num struct{ Raw, Canon string }

// itemKeys name response fields that hold one item (attribute name → value).
var itemKeys = map[string]bool{"Item": true, "Attributes": true, "LastEvaluatedKey": true, "Key": true, "ExclusiveStartKey": true}

// itemListKeys name response fields that hold a list of items.
var itemListKeys = map[string]bool{"Items": true, "Keys": true}

func normalizeBody(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return v, nil
	}
	delete(m, "ConsumedCapacity")
	if t, ok := m["__type"].(string); ok {
		m["__type"] = t[strings.LastIndexByte(t, '#')+1:]
	}
	if msg, ok := m["Message"]; ok {
		if _, dup := m["message"]; !dup {
			delete(m, "Message")
			m["message"] = msg
		}
	}
	return normalizeStruct(m), nil
}

// normalizeStruct walks the non-item part of a response.
func normalizeStruct(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			switch {
			case itemKeys[k]:
				out[k] = normalizeItem(e)
			case itemListKeys[k]:
				out[k] = normalizeItemList(e, false)
			case k == "Responses":
				// BatchGetItem: table → items in no particular order.
				// TransactGetItems: a list in request order.
				if tables, ok := e.(map[string]any); ok {
					nt := make(map[string]any, len(tables))
					for tn, items := range tables {
						nt[tn] = normalizeItemList(items, true)
					}
					out[k] = nt
				} else {
					out[k] = normalizeStruct(e)
				}
			default:
				out[k] = normalizeStruct(e)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalizeStruct(e)
		}
		return out
	default:
		return v
	}
}

func normalizeItemList(v any, unordered bool) any {
	l, ok := v.([]any)
	if !ok {
		return normalizeStruct(v)
	}
	out := make([]any, len(l))
	for i, e := range l {
		out[i] = normalizeItem(e)
	}
	if unordered {
		SortItems(out)
	}
	return out
}

func normalizeItem(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := make(map[string]any, len(m))
	for k, av := range m {
		out[k] = normalizeAV(av)
	}
	return out
}

// normalizeAV turns one AttributeValue into a comparable form. Anything that
// is not a well-formed AttributeValue is kept as is and compared literally.
func normalizeAV(v any) any {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return v
	}
	for t, e := range m {
		switch t {
		case "N":
			if s, ok := e.(string); ok {
				return map[string]any{"N": num{Raw: s, Canon: canonicalNumber(s)}}
			}
		case "M":
			return map[string]any{"M": normalizeItem(e)}
		case "L":
			if l, ok := e.([]any); ok {
				out := make([]any, len(l))
				for i, x := range l {
					out[i] = normalizeAV(x)
				}
				return map[string]any{"L": out}
			}
		case "SS", "BS":
			if l, ok := e.([]any); ok {
				out := append([]any(nil), l...)
				sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
				return map[string]any{t: out}
			}
		case "NS":
			if l, ok := e.([]any); ok {
				out := make([]any, len(l))
				for i, x := range l {
					s, _ := x.(string)
					out[i] = num{Raw: s, Canon: canonicalNumber(s)}
				}
				sort.Slice(out, func(i, j int) bool { return out[i].(num).Canon < out[j].(num).Canon })
				return map[string]any{"NS": out}
			}
		}
	}
	return v
}

// SortItems orders normalised items by their canonical rendering, which makes
// a list of them comparable as a multiset.
func SortItems(items []any) {
	keys := make([]string, len(items))
	idx := make([]int, len(items))
	for i, it := range items {
		keys[i] = CanonicalString(it)
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool { return keys[idx[i]] < keys[idx[j]] })
	sorted := make([]any, len(items))
	for i, j := range idx {
		sorted[i] = items[j]
	}
	copy(items, sorted)
}

// CanonicalString renders a normalised value with numbers by value and map
// keys sorted (encoding/json sorts them).
func CanonicalString(v any) string {
	b, _ := json.Marshal(canonicalForm(v))
	return string(b)
}

func canonicalForm(v any) any {
	switch x := v.(type) {
	case num:
		return "#" + x.Canon
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = canonicalForm(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = canonicalForm(e)
		}
		return out
	default:
		return v
	}
}

func render(v any) string {
	switch x := v.(type) {
	case num:
		return x.Raw
	case nil:
		return "null"
	}
	b, err := json.Marshal(rawForm(v))
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func rawForm(v any) any {
	switch x := v.(type) {
	case num:
		return x.Raw
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = rawForm(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = rawForm(e)
		}
		return out
	default:
		return v
	}
}

func compareValues(path string, a, b any, diffs *[]Difference) {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			*diffs = append(*diffs, Difference{Path: path, A: render(a), B: render(b), Note: "different kinds"})
			return
		}
		keys := make([]string, 0, len(x)+len(y))
		for k := range x {
			keys = append(keys, k)
		}
		for k := range y {
			if _, ok := x[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := path + "." + k
			va, inA := x[k]
			vb, inB := y[k]
			switch {
			case !inA:
				*diffs = append(*diffs, Difference{Path: p, A: "<absent>", B: render(vb)})
			case !inB:
				*diffs = append(*diffs, Difference{Path: p, A: render(va), B: "<absent>"})
			default:
				compareValues(p, va, vb, diffs)
			}
		}
	case []any:
		y, ok := b.([]any)
		if !ok {
			*diffs = append(*diffs, Difference{Path: path, A: render(a), B: render(b), Note: "different kinds"})
			return
		}
		if len(x) != len(y) {
			*diffs = append(*diffs, Difference{Path: path, A: render(a), B: render(b), Note: fmt.Sprintf("length %d vs %d", len(x), len(y))})
			return
		}
		for i := range x {
			compareValues(fmt.Sprintf("%s[%d]", path, i), x[i], y[i], diffs)
		}
	case num:
		y, ok := b.(num)
		switch {
		case !ok:
			*diffs = append(*diffs, Difference{Path: path, A: render(a), B: render(b), Note: "different kinds"})
		case x.Canon != y.Canon:
			*diffs = append(*diffs, Difference{Path: path, A: x.Raw, B: y.Raw})
		case x.Raw != y.Raw && !(isCanonicalSpelling(y.Raw) && !isCanonicalSpelling(x.Raw)):
			// The exception: DynamoDB Local returns numbers nested in maps,
			// lists and sets as they were sent ("2.50E+3"), while AWS returns
			// every number canonical ("2500"; see boto/boto3#4636). A side that
			// answers AWS's canonical spelling where the oracle echoed the
			// request's is following AWS, not diverging.
			*diffs = append(*diffs, Difference{Path: path, A: x.Raw, B: y.Raw, Note: "number spelling"})
		}
	default:
		if render(a) != render(b) {
			*diffs = append(*diffs, Difference{Path: path, A: render(a), B: render(b)})
		}
	}
}

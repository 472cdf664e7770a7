package diff

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"

	"github.com/dualread/dualread/adapter/attr"
)

// valueTree renders an AttributeValue as the generic JSON tree jsondiff
// compares: the wire shape ({"N": "1"}), so a patch path names the type as
// DynamoDB does, with numbers canonical (attr's decoder already made them
// so) and set elements sorted, so that set order never shows up as a
// difference while a changed element does.
func valueTree(v attr.Value) any {
	switch v.Type {
	case attr.S:
		return map[string]any{"S": v.S}
	case attr.N:
		return map[string]any{"N": v.S}
	case attr.B:
		return map[string]any{"B": base64.StdEncoding.EncodeToString(v.B)}
	case attr.BOOL:
		return map[string]any{"BOOL": v.BOOL}
	case attr.NULL:
		return map[string]any{"NULL": true}
	case attr.M:
		return map[string]any{"M": itemTree(v.M)}
	case attr.L:
		l := make([]any, len(v.L))
		for i, e := range v.L {
			l[i] = valueTree(e)
		}
		return map[string]any{"L": l}
	case attr.SS, attr.NS:
		// NS elements are canonical strings, so string order is a fine
		// deterministic order: a set has no order to preserve.
		ss := slices.Clone(v.SS)
		slices.Sort(ss)
		return map[string]any{v.Type.String(): stringsAny(ss)}
	case attr.BS:
		ss := make([]string, len(v.BS))
		for i, b := range v.BS {
			ss[i] = base64.StdEncoding.EncodeToString(b)
		}
		slices.Sort(ss)
		return map[string]any{"BS": stringsAny(ss)}
	}
	return map[string]any{}
}

func stringsAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func itemTree(it map[string]attr.Value) map[string]any {
	m := make(map[string]any, len(it))
	for k, v := range it {
		m[k] = valueTree(v)
	}
	return m
}

// parseItem decodes one item with attr's decoder, which validates and
// canonicalises numbers. A body that is not a valid item (a backend bug)
// falls back to its plain JSON so the difference is still shown.
func parseItem(raw json.RawMessage) any {
	var it attr.Item
	if err := it.UnmarshalJSON(raw); err != nil {
		return genericJSON(raw)
	}
	return itemTree(it)
}

// genericJSON decodes JSON keeping numbers as json.Number (their spelling),
// which jsondiff compares as strings; invalid JSON becomes its text.
func genericJSON(raw []byte) any {
	d := json.NewDecoder(strings.NewReader(string(raw)))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return map[string]any{"$invalid": string(raw)}
	}
	return v
}

// itemKey names an item within a response for alignment: the canonical
// wire JSON of its key attributes when keyAttrs are known and all present,
// otherwise a digest of the whole canonical item (multiset matching, where
// a changed item shows as one removed and one added).
func itemKey(tree any, keyAttrs []string) string {
	m, ok := tree.(map[string]any)
	if ok && len(keyAttrs) > 0 {
		var b strings.Builder
		complete := true
		for i, k := range keyAttrs {
			v, present := m[k]
			if !present {
				complete = false
				break
			}
			if i > 0 {
				b.WriteByte(',')
			}
			j, _ := json.Marshal(v) // map keys sorted: canonical
			b.Write(j)
		}
		if complete {
			return b.String()
		}
	}
	j, _ := json.Marshal(tree)
	sum := sha256.Sum256(j)
	return "item:" + hex.EncodeToString(sum[:8])
}

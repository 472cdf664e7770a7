package diff

import (
	"encoding/base64"
	"slices"
	"strings"

	"github.com/dualread/dualread/adapter/attr"
)

// itemFromTree is parseItem on an already decoded tree: the item with
// numbers canonical and sets sorted when it is an item attr's decoder
// accepts, else the tree itself (what parseItem's fallback, genericJSON,
// gives for the same bytes). It never modifies the tree: where normalising
// changes something it builds new maps, so the fallback stays intact.
// FuzzItemFromTree checks it against parseItem.
func itemFromTree(tree any) any {
	if tree == nil {
		return map[string]any{} // attr reads null as an absent (empty) item
	}
	m, ok := tree.(map[string]any)
	if !ok {
		return tree
	}
	out, _, ok := mapNorm(m, attr.MaxNestingDepth-1)
	if !ok {
		return tree
	}
	return out
}

// mapNorm normalises {"name": AttributeValue, ...}; budget is how many more
// M/L levels may open below (attr's nesting limit). changed reports whether
// out is a new map.
func mapNorm(m map[string]any, budget int) (out map[string]any, changed, ok bool) {
	for k, v := range m {
		if k == "" || v == nil {
			return nil, false, false // "Empty attribute name", "<name> is null"
		}
		nv, ch, ok := valueNorm(v, budget)
		if !ok {
			return nil, false, false
		}
		if ch && out == nil {
			out = make(map[string]any, len(m))
			for k2, v2 := range m {
				out[k2] = v2
			}
		}
		if out != nil {
			out[k] = nv
		}
	}
	if out == nil {
		return m, false, true
	}
	return out, true, true
}

// valueNorm validates one AttributeValue as attr's decoder does and returns
// its normalised wire shape: the input map itself (changed false) when it is
// already normal (one member, canonical number, sorted set).
func valueNorm(v any, budget int) (out any, changed, ok bool) {
	m, isMap := v.(map[string]any)
	if !isMap {
		return nil, false, false
	}
	var (
		typ     string
		val     any
		members int // known, non-null members
	)
	for k, x := range m {
		if memberKind(k) == "" {
			continue // unknown members are ignored, as DynamoDB does
		}
		if x == nil {
			continue // a null member is an absent member
		}
		members++
		typ, val = k, x
	}
	if members != 1 {
		return nil, false, false // "Supplied AttributeValue is empty" / "more than one datatypes"
	}
	norm, ch, ok := memberNorm(typ, val, budget)
	if !ok {
		return nil, false, false
	}
	if !ch && len(m) == 1 {
		return m, false, true
	}
	return map[string]any{typ: norm}, true, true
}

func memberKind(k string) string {
	switch k {
	case "S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS":
		return k
	}
	return ""
}

// memberNorm normalises the value of one type member; changed reports
// whether the result differs from x.
func memberNorm(typ string, x any, budget int) (out any, changed, ok bool) {
	switch typ {
	case "S":
		_, ok := x.(string)
		return x, false, ok
	case "N":
		s, ok := x.(string)
		if !ok {
			return nil, false, false
		}
		c, err := attr.CanonicalNumber(s)
		if err != nil {
			return nil, false, false
		}
		return c, c != s, true
	case "B":
		s, ok := x.(string)
		if !ok || !strictBase64(s) {
			return nil, false, false
		}
		return s, false, true // strict base64 re-encodes to itself
	case "BOOL", "NULL":
		var b bool
		switch t := x.(type) {
		case bool:
			b = t
		case string:
			switch {
			case strings.EqualFold(t, "true"):
				b = true
			case strings.EqualFold(t, "false"):
			default:
				return nil, false, false
			}
		default:
			return nil, false, false
		}
		if typ == "NULL" && !b {
			return nil, false, false
		}
		_, isBool := x.(bool)
		return b, !isBool, true
	case "SS", "BS":
		l, ok := x.([]any)
		if !ok || len(l) == 0 {
			return nil, false, false
		}
		ss := make([]string, len(l))
		for i, e := range l {
			s, ok := e.(string)
			if !ok || typ == "BS" && !strictBase64(s) {
				return nil, false, false
			}
			ss[i] = s
		}
		return sortedSet(l, ss)
	case "NS":
		l, ok := x.([]any)
		if !ok || len(l) == 0 {
			return nil, false, false
		}
		ss := make([]string, len(l))
		canonChanged := false
		for i, e := range l {
			s, ok := e.(string)
			if !ok {
				return nil, false, false
			}
			c, err := attr.CanonicalNumber(s)
			if err != nil {
				return nil, false, false
			}
			canonChanged = canonChanged || c != s
			ss[i] = c
		}
		out, changed, ok := sortedSet(l, ss)
		if ok && canonChanged && !changed {
			return stringsAny(ss), true, true
		}
		return out, changed || canonChanged, ok
	case "M":
		if budget == 0 {
			return nil, false, false
		}
		mm, ok := x.(map[string]any)
		if !ok {
			return nil, false, false
		}
		return mapNorm(mm, budget-1)
	case "L":
		if budget == 0 {
			return nil, false, false
		}
		l, ok := x.([]any)
		if !ok {
			return nil, false, false
		}
		var out []any
		for i, e := range l {
			if e == nil {
				return nil, false, false
			}
			ne, ch, ok := valueNorm(e, budget-1)
			if !ok {
				return nil, false, false
			}
			if out == nil && ch {
				out = slices.Clone(l)
			}
			if out != nil {
				out[i] = ne
			}
		}
		if out == nil {
			return l, false, true
		}
		return out, true, true
	}
	return nil, false, false
}

// sortedSet rejects duplicates (attr does) and returns the elements sorted;
// l itself when it already is.
func sortedSet(l []any, ss []string) (any, bool, bool) {
	if slices.IsSorted(ss) {
		for i := 1; i < len(ss); i++ {
			if ss[i] == ss[i-1] {
				return nil, false, false
			}
		}
		return l, false, true
	}
	sorted := slices.Clone(ss)
	slices.Sort(sorted)
	for i := 1; i < len(sorted); i++ {
		if sorted[i] == sorted[i-1] {
			return nil, false, false
		}
	}
	return stringsAny(sorted), true, true
}

// strictBase64 is attr's rule: padded standard base64, length a multiple of
// 4, no line breaks, unused bits zero. Such a string is its own canonical
// encoding, so equal strings are equal bytes.
func strictBase64(s string) bool {
	if len(s)%4 != 0 || strings.ContainsAny(s, "\r\n") {
		return false
	}
	_, err := base64.StdEncoding.Strict().DecodeString(s)
	return err == nil
}

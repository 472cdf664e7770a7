package differential

import (
	"fmt"
	"strings"
)

// exprCtx collects the placeholders of one request's expressions.
type exprCtx struct {
	g      *Gen
	names  map[string]string
	values map[string]any
}

func (g *Gen) newExpr() *exprCtx {
	return &exprCtx{g: g, names: map[string]string{}, values: map[string]any{}}
}

// reserved lists attribute names used here that DynamoDB reserves, which
// must therefore go through ExpressionAttributeNames.
var reserved = map[string]bool{"status": true}

// name renders one path element, through a #placeholder half the time.
func (e *exprCtx) name(n string) string {
	if !reserved[n] && e.g.chance(0.5) {
		return n
	}
	for p, v := range e.names {
		if v == n {
			return p
		}
	}
	p := fmt.Sprintf("#n%d", len(e.names))
	e.names[p] = n
	return p
}

func (e *exprCtx) value(av any) string {
	p := fmt.Sprintf(":v%d", len(e.values))
	e.values[p] = av
	return p
}

// apply sets the placeholder maps on req; empty maps are left out because
// DynamoDB rejects them.
func (e *exprCtx) apply(req map[string]any) {
	if len(e.names) > 0 {
		req["ExpressionAttributeNames"] = e.names
	}
	if len(e.values) > 0 {
		req["ExpressionAttributeValues"] = e.values
	}
}

// path renders a document path: an attribute, a map member or a list element.
func (e *exprCtx) path() string {
	switch e.g.intn(8) {
	case 0:
		return e.name("m") + "." + e.name(pick(e.g, mapKeys))
	case 1:
		return e.name("l") + fmt.Sprintf("[%d]", e.g.intn(3))
	case 2:
		return e.name("m") + "." + e.name("deep") + "." + e.name("x")
	default:
		return e.name(pick(e.g, itemAttrs))
	}
}

// condition is a random condition over the item's attributes. Value types
// mostly match the attribute's usual type so conditions are sometimes true.
func (e *exprCtx) condition(depth int) string {
	g := e.g
	if depth > 0 && g.chance(0.3) {
		switch g.intn(3) {
		case 0:
			return "NOT " + e.condition(depth-1)
		case 1:
			return "(" + e.condition(depth-1) + " AND " + e.condition(depth-1) + ")"
		default:
			return "(" + e.condition(depth-1) + " OR " + e.condition(depth-1) + ")"
		}
	}
	cmp := pick(g, []string{"=", "<>", "<", "<=", ">", ">="})
	switch g.intn(11) {
	case 0:
		return "attribute_exists(" + e.path() + ")"
	case 1:
		return "attribute_not_exists(" + e.path() + ")"
	case 2:
		return e.name("n") + " " + cmp + " " + e.value(avN(g.num()))
	case 3:
		return e.name(pick(g, []string{"s", "status"})) + " " + cmp + " " + e.value(avS(g.str()))
	case 4:
		return "begins_with(" + e.name("s") + ", " + e.value(avS(pick(g, []string{"h", "he", "s1", "", "x"}))) + ")"
	case 5:
		if g.chance(0.5) {
			return "contains(" + e.name("tags") + ", " + e.value(avS(g.nonEmptyStr())) + ")"
		}
		return "contains(" + e.name("s") + ", " + e.value(avS(pick(g, []string{"l", "o w", "x"}))) + ")"
	case 6:
		return "size(" + e.path() + ") " + cmp + " " + e.value(avN(fmt.Sprint(g.intn(6))))
	case 7:
		lo, hi := g.intn(50)-25, g.intn(100)
		if lo > hi && !g.chance(0.1) {
			lo, hi = hi, lo
		}
		return e.name("n") + " BETWEEN " + e.value(avN(fmt.Sprint(lo))) + " AND " + e.value(avN(fmt.Sprint(hi)))
	case 8:
		var vs []string
		for i, n := 0, 1+g.intn(3); i < n; i++ {
			vs = append(vs, e.value(avS(g.str())))
		}
		return e.name("s") + " IN (" + strings.Join(vs, ", ") + ")"
	case 9:
		return "attribute_type(" + e.path() + ", " + e.value(avS(pick(g, []string{"S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"}))) + ")"
	default:
		// Compare two attributes with each other.
		return e.name("n") + " " + cmp + " " + e.name("v")
	}
}

// updateExpression is a random UpdateExpression touching distinct attributes
// (overlapping paths are a validation error, generated separately).
func (e *exprCtx) updateExpression() string {
	g := e.g
	used := map[string]bool{}
	free := func(cands ...string) string {
		for range 4 {
			c := pick(g, cands)
			if !used[c] {
				used[c] = true
				return c
			}
		}
		return ""
	}
	var set, remove, add, del []string
	for i, n := 0, 1+g.intn(3); i < n; i++ {
		switch g.intn(14) {
		case 0:
			if a := free("n"); a != "" {
				set = append(set, e.name(a)+" = "+e.value(avN(g.num())))
			}
		case 1:
			if a := free("n"); a != "" {
				op := pick(g, []string{"+", "-"})
				set = append(set, e.name(a)+" = if_not_exists("+e.name(a)+", "+e.value(avN("0"))+") "+op+" "+e.value(avN(pick(g, []string{"1", "2.5", "-3", "1e2"}))))
			}
		case 2:
			if a := free("n"); a != "" && g.chance(0.3) {
				// Fails when n is absent: the item path must exist.
				set = append(set, e.name(a)+" = "+e.name(a)+" + "+e.value(avN("1")))
			}
		case 3:
			if a := free("l"); a != "" {
				list := map[string]any{"L": g.listValue(1)}
				if g.chance(0.5) {
					set = append(set, e.name(a)+" = list_append(if_not_exists("+e.name(a)+", "+e.value(map[string]any{"L": []any{}})+"), "+e.value(list)+")")
				} else {
					set = append(set, e.name(a)+" = list_append("+e.value(list)+", "+e.name(a)+")")
				}
			}
		case 4:
			if a := free("m"); a != "" && g.chance(0.3) {
				set = append(set, e.name(a)+"."+e.name(pick(g, mapKeys))+" = "+e.value(g.anyValue(1)))
			}
		case 5:
			if a := free("l"); a != "" && g.chance(0.3) {
				set = append(set, e.name(a)+fmt.Sprintf("[%d]", g.intn(4))+" = "+e.value(g.anyValue(1)))
			}
		case 6:
			if a := free("s", "status", "b", "f", "v", "w", "m", "tags"); a != "" {
				if g.chance(0.3) {
					set = append(set, e.name(a)+" = if_not_exists("+e.name(a)+", "+e.value(g.typedAttr(a))+")")
				} else {
					set = append(set, e.name(a)+" = "+e.value(g.typedAttr(a)))
				}
			}
		case 7:
			if a := free("w", "v"); a != "" {
				// Copy one attribute into another (s may be absent).
				set = append(set, e.name(a)+" = if_not_exists("+e.name("s")+", "+e.value(avS("dflt"))+")")
			}
		case 8:
			if a := free("s", "b", "f", "z", "v", "w", "tags", "nums"); a != "" {
				remove = append(remove, e.name(a))
			}
		case 9:
			if a := free("l"); a != "" && g.chance(0.5) {
				remove = append(remove, e.name(a)+fmt.Sprintf("[%d]", g.intn(3)))
			}
		case 10:
			if a := free("m"); a != "" && g.chance(0.5) {
				remove = append(remove, e.name(a)+"."+e.name(pick(g, mapKeys)))
			}
		case 11:
			if a := free("n"); a != "" {
				add = append(add, e.name(a)+" "+e.value(avN(pick(g, []string{"1", "-1", "0.5", "1e10"}))))
			}
		case 12:
			if a := free("tags", "nums"); a != "" {
				add = append(add, e.name(a)+" "+e.value(g.typedAttr(a)))
			}
		default:
			if a := free("tags", "nums"); a != "" {
				del = append(del, e.name(a)+" "+e.value(g.typedAttr(a)))
			}
		}
	}
	var parts []string
	for _, c := range []struct {
		kw string
		xs []string
	}{{"SET", set}, {"REMOVE", remove}, {"ADD", add}, {"DELETE", del}} {
		if len(c.xs) > 0 {
			parts = append(parts, c.kw+" "+strings.Join(c.xs, ", "))
		}
	}
	if len(parts) == 0 {
		return "SET " + e.name("f") + " = " + e.value(map[string]any{"BOOL": true})
	}
	g.rng.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
	return strings.Join(parts, " ")
}

// projection is a random ProjectionExpression, including nested paths.
// Each top-level attribute appears at most once, because overlapping paths
// are a validation error (generated only one time in twenty).
func (e *exprCtx) projection(t Table) string {
	var ps []string
	roots := map[string]bool{}
	for i, n := 0, 1+e.g.intn(4); i < n; i++ {
		// Choose the root first: a placeholder made for a path that is then
		// dropped would be an unused name, another validation error.
		k := e.g.intn(8)
		root := pick(e.g, itemAttrs)
		switch k {
		case 0:
			root = t.Hash
		case 1, 3:
			root = "m"
		case 2:
			root = "l"
		}
		if roots[root] && !e.g.chance(0.05) {
			continue
		}
		roots[root] = true
		switch k {
		case 1:
			ps = append(ps, e.name("m")+"."+e.name(pick(e.g, mapKeys)))
		case 2:
			ps = append(ps, e.name("l")+fmt.Sprintf("[%d]", e.g.intn(3)))
		case 3:
			ps = append(ps, e.name("m")+"."+e.name("deep")+"."+e.name("x"))
		default:
			ps = append(ps, e.name(root))
		}
	}
	return strings.Join(ps, ", ")
}

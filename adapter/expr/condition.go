package expr

import (
	"bytes"
	"encoding/base64"
	"strings"
	"unicode/utf8"

	"github.com/dualread/dualread/adapter/attr"
)

// Condition is a parsed ConditionExpression or FilterExpression (or a legacy
// Expected / QueryFilter / ScanFilter translated into the same tree).
type Condition struct {
	root *cond
}

// ParseCondition parses a ConditionExpression.
func ParseCondition(s string, p *Params) (*Condition, error) {
	return parseCond(s, KindCondition, p)
}

// ParseFilter parses a FilterExpression: same grammar as ParseCondition, but
// errors name the FilterExpression parameter.
func ParseFilter(s string, p *Params) (*Condition, error) {
	return parseCond(s, KindFilter, p)
}

func parseCond(s string, k Kind, params *Params) (*Condition, error) {
	p, err := newParser(s, k, params)
	if err != nil {
		return nil, err
	}
	c, err := p.parseOr(false)
	if err != nil {
		return nil, err
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	if err := p.checkCond(c); err != nil {
		return nil, err
	}
	return &Condition{root: c}, nil
}

// Eval reports whether item (nil for a missing item) satisfies the condition.
// A missing attribute or a type mismatch makes a comparison false, never an
// error, as in DynamoDB.
func (c *Condition) Eval(item attr.Item) (bool, error) {
	if c == nil || c.root == nil {
		return true, nil
	}
	return evalCond(c.root, item), nil
}

func evalCond(c *cond, item attr.Item) bool {
	switch c.kind {
	case cAnd:
		return evalCond(c.sub[0], item) && evalCond(c.sub[1], item)
	case cOr:
		return evalCond(c.sub[0], item) || evalCond(c.sub[1], item)
	case cNot:
		return !evalCond(c.sub[0], item)
	case cCmp:
		l, lok := evalOperand(c.args[0], item)
		r, rok := evalOperand(c.args[1], item)
		if c.op == "<>" {
			// DynamoDB: a missing attribute is "not equal" to anything.
			return !(lok && rok && attr.Equal(l, r))
		}
		if !lok || !rok {
			return false
		}
		if c.op == "=" {
			return attr.Equal(l, r)
		}
		cmp, ok := attr.Compare(l, r)
		if !ok {
			return false
		}
		switch c.op {
		case "<":
			return cmp < 0
		case "<=":
			return cmp <= 0
		case ">":
			return cmp > 0
		default:
			return cmp >= 0
		}
	case cBetween:
		v, ok1 := evalOperand(c.args[0], item)
		lo, ok2 := evalOperand(c.args[1], item)
		hi, ok3 := evalOperand(c.args[2], item)
		if !ok1 || !ok2 || !ok3 {
			return false
		}
		a, oka := attr.Compare(lo, v)
		b, okb := attr.Compare(v, hi)
		return oka && okb && a <= 0 && b <= 0
	case cIn:
		v, ok := evalOperand(c.args[0], item)
		if !ok {
			return false
		}
		for _, a := range c.args[1:] {
			if w, ok := evalOperand(a, item); ok && attr.Equal(v, w) {
				return true
			}
		}
		return false
	case cFunc:
		return evalFunc(c, item)
	}
	return false
}

func evalFunc(c *cond, item attr.Item) bool {
	v, ok := evalOperand(c.args[0], item)
	switch c.op {
	case "attribute_exists":
		return ok
	case "attribute_not_exists":
		return !ok
	}
	w, wok := evalOperand(c.args[1], item)
	if !ok || !wok {
		return false
	}
	switch c.op {
	case "attribute_type":
		return w.Type == attr.S && v.Type.String() == w.S
	case "begins_with":
		switch {
		case v.Type == attr.S && w.Type == attr.S:
			return strings.HasPrefix(v.S, w.S)
		case v.Type == attr.B && w.Type == attr.B:
			return bytes.HasPrefix(v.B, w.B)
		}
	case "contains":
		return contains(v, w)
	}
	return false
}

// contains is DynamoDB's contains(): substring for S and B, membership for
// sets (element of the matching type) and lists (any equal element).
func contains(v, w attr.Value) bool {
	switch v.Type {
	case attr.S:
		return w.Type == attr.S && strings.Contains(v.S, w.S)
	case attr.B:
		return w.Type == attr.B && bytes.Contains(v.B, w.B)
	case attr.SS, attr.NS:
		if (v.Type == attr.SS && w.Type != attr.S) || (v.Type == attr.NS && w.Type != attr.N) {
			return false
		}
		for _, e := range v.SS {
			if e == w.S {
				return true
			}
		}
	case attr.BS:
		if w.Type != attr.B {
			return false
		}
		for _, e := range v.BS {
			if bytes.Equal(e, w.B) {
				return true
			}
		}
	case attr.L:
		for _, e := range v.L {
			if attr.Equal(e, w) {
				return true
			}
		}
	}
	return false
}

// evalOperand yields the operand's value; ok is false when it refers to a
// missing attribute or size() of a type that has no size.
func evalOperand(o *operand, item attr.Item) (attr.Value, bool) {
	switch o.kind {
	case oValue:
		return o.val, true
	case oPath:
		return getPath(item, o.path)
	case oFunc:
		if o.fn != "size" {
			return attr.Value{}, false
		}
		v, ok := evalOperand(o.args[0], item)
		if !ok {
			return attr.Value{}, false
		}
		n, ok := sizeOf(v)
		if !ok {
			return attr.Value{}, false
		}
		return attr.MustNum(itoa(n)), true
	}
	return attr.Value{}, false
}

// sizeOf is size(): characters of S, bytes of B, elements of sets, lists, maps.
// DynamoDB Local (Java) counts UTF-16 code units for S; we count code points,
// which agrees for every character outside the supplementary planes.
func sizeOf(v attr.Value) (int, bool) {
	switch v.Type {
	case attr.S:
		return utf8.RuneCountInString(v.S), true
	case attr.B:
		return len(v.B), true
	case attr.SS, attr.NS:
		return len(v.SS), true
	case attr.BS:
		return len(v.BS), true
	case attr.L:
		return len(v.L), true
	case attr.M:
		return len(v.M), true
	}
	return 0, false
}

// getPath walks a document path through maps and lists.
func getPath(item attr.Item, p Path) (attr.Value, bool) {
	if item == nil || len(p) == 0 || p[0].IsIndex {
		return attr.Value{}, false
	}
	v, ok := item[p[0].Name]
	if !ok {
		return attr.Value{}, false
	}
	for _, e := range p[1:] {
		switch {
		case e.IsIndex && v.Type == attr.L:
			if e.Index >= len(v.L) {
				return attr.Value{}, false
			}
			v = v.L[e.Index]
		case !e.IsIndex && v.Type == attr.M:
			w, ok := v.M[e.Name]
			if !ok {
				return attr.Value{}, false
			}
			v = w
		default:
			return attr.Value{}, false
		}
	}
	return v, true
}

func encodeB64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

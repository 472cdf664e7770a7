package expr

import (
	"bytes"
	"slices"
	"sort"
	"strings"

	"github.com/dualread/dualread/adapter/attr"
	"github.com/dualread/dualread/adapter/ddberr"
)

// Update is a parsed UpdateExpression (or legacy AttributeUpdates).
type Update struct {
	sets    []setAction
	removes []Path
	adds    []valueAction
	deletes []valueAction
	// legacyAdd gives ADD the AttributeUpdates meaning, where ADD on a list
	// appends (UpdateExpression's ADD rejects lists).
	legacyAdd bool
	order     []Path // every target path in written order
}

type setAction struct {
	path Path
	val  *operand
}

type valueAction struct {
	path Path
	val  attr.Value
}

// ParseUpdate parses an UpdateExpression:
//
//	update := clause+
//	clause := SET path '=' value (',' path '=' value)*
//	        | REMOVE path (',' path)*
//	        | ADD path :v (',' path :v)*
//	        | DELETE path :v (',' path :v)*
//	value  := operand [('+' | '-') operand]
//
// Each clause may appear once, in any order.
func ParseUpdate(s string, params *Params) (*Update, error) {
	p, err := newParser(s, KindUpdate, params)
	if err != nil {
		return nil, err
	}
	p.update = true
	u := &Update{}
	seen := map[string]bool{}
	for p.tok().kind != tEOF {
		t := p.tok()
		clause := strings.ToUpper(t.text)
		if t.kind != tIdent || (clause != "SET" && clause != "REMOVE" && clause != "ADD" && clause != "DELETE") {
			return nil, p.syntaxErr()
		}
		if seen[clause] {
			return nil, invalid(p.kind, "The \"%s\" section can only be used once in an update expression;", clause)
		}
		seen[clause] = true
		p.next()
		for {
			if err := p.parseAction(u, clause); err != nil {
				return nil, err
			}
			if !p.isPunct(",") {
				break
			}
			p.next()
		}
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	for _, a := range u.sets {
		if err := p.checkOperand(a.val); err != nil {
			return nil, err
		}
	}
	for _, a := range u.adds {
		if t := a.val.Type; t != attr.N && !t.IsSet() {
			return nil, invalid(p.kind, "Incorrect operand type for operator or function; operator: ADD, operand type: %s, typeSet: ALLOWED_FOR_ADD_OPERAND", longTypeName(t))
		}
	}
	for _, a := range u.deletes {
		if t := a.val.Type; !t.IsSet() {
			return nil, invalid(p.kind, "Incorrect operand type for operator or function; operator: DELETE, operand type: %s, typeSet: ALLOWED_FOR_DELETE_OPERAND", longTypeName(t))
		}
	}
	if err := checkOverlap(p.kind, u.order); err != nil {
		return nil, err
	}
	return u, nil
}

// longTypeName is the spelling DynamoDB uses in ADD/DELETE operand messages.
func longTypeName(t attr.Type) string {
	switch t {
	case attr.S:
		return "STRING"
	case attr.N:
		return "NUMBER"
	case attr.B:
		return "BINARY"
	case attr.BOOL:
		return "BOOLEAN"
	case attr.NULL:
		return "NULL"
	case attr.M:
		return "MAP"
	case attr.L:
		return "LIST"
	case attr.SS:
		return "STRING_SET"
	case attr.NS:
		return "NUMBER_SET"
	case attr.BS:
		return "BINARY_SET"
	}
	return t.String()
}

func (p *parser) parseAction(u *Update, clause string) error {
	path, err := p.parsePath()
	if err != nil {
		return err
	}
	u.order = append(u.order, path)
	switch clause {
	case "SET":
		if err := p.expectPunct("="); err != nil {
			return err
		}
		v, err := p.parseSetValue()
		if err != nil {
			return err
		}
		u.sets = append(u.sets, setAction{path, v})
	case "REMOVE":
		u.removes = append(u.removes, path)
	default: // ADD, DELETE take a single :value
		if p.tok().kind != tValue {
			return p.syntaxErr()
		}
		o, err := p.parseOperand()
		if err != nil {
			return err
		}
		a := valueAction{path, o.val}
		if clause == "ADD" {
			u.adds = append(u.adds, a)
		} else {
			u.deletes = append(u.deletes, a)
		}
	}
	return nil
}

// parseSetValue reads operand [('+'|'-') operand].
func (p *parser) parseSetValue() (*operand, error) {
	l, err := p.parseOperand()
	if err != nil {
		return nil, err
	}
	if !p.isPunct("+") && !p.isPunct("-") {
		return l, nil
	}
	op := p.tok().text
	p.next()
	if err := p.countOp(); err != nil {
		return nil, err
	}
	r, err := p.parseOperand()
	if err != nil {
		return nil, err
	}
	return &operand{kind: oArith, fn: op, args: []*operand{l, r}}, nil
}

// checkOverlap rejects two paths where one is a prefix of the other
// ("overlap") or where they first differ by a name against an index
// ("conflict": one side treats the parent as a map, the other as a list).
//
// For a projection DynamoDB names the pair with the latest second path, and
// for that path the latest first one ("a.b, a, a.c" reports [a] and [a, c]);
// for an update, the earliest pair.
func checkOverlap(k Kind, paths []Path) error {
	type pair struct{ i, j int }
	var order []pair
	for j := 1; j < len(paths); j++ {
		for i := 0; i < j; i++ {
			order = append(order, pair{i, j})
		}
	}
	if k == KindProjection {
		slices.Reverse(order)
	}
	for _, pr := range order {
		a, b := paths[pr.i], paths[pr.j]
		n := min(len(a), len(b))
		d := 0
		for d < n && a[d] == b[d] {
			d++
		}
		switch {
		case d == n:
			return invalid(k, "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: %s, path two: %s", a.bracketed(), b.bracketed())
		case a[d].IsIndex != b[d].IsIndex:
			return invalid(k, "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: %s, path two: %s", a.bracketed(), b.bracketed())
		}
	}
	return nil
}

// Paths lists the document paths the update sets, removes, adds to or deletes from.
func (u *Update) Paths() []Path {
	out := make([]Path, len(u.order))
	copy(out, u.order)
	return out
}

// comparePaths orders paths element by element, list indexes numerically.
func comparePaths(a, b Path) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := a[i], b[i]
		switch {
		case x.IsIndex && y.IsIndex:
			if x.Index != y.Index {
				return x.Index - y.Index
			}
		case !x.IsIndex && !y.IsIndex:
			if c := strings.Compare(x.Name, y.Name); c != 0 {
				return c
			}
		case x.IsIndex:
			return -1
		default:
			return 1
		}
	}
	return len(a) - len(b)
}

// Apply returns the updated copy of item (nil item = new item); item is not changed.
//
// Every operand is read from the original item, as in DynamoDB. Actions then
// apply to a copy: SET and ADD first (in path order, so SETs past the end of
// one list append in index order), DELETE, and REMOVE last, highest list index
// first, so several indexes of one list all refer to the original positions.
func (u *Update) Apply(item attr.Item) (attr.Item, error) {
	// Errors come in DynamoDB's order: first the values computed from
	// paths and arithmetic (SET a = b, SET n = n + :v, ADD: missing operands,
	// 38-digit overflow), then target paths whose parent is missing or of the
	// wrong kind, then SET values that are a function call (list_append,
	// if_not_exists) at the top.
	vals := make([]attr.Value, len(u.sets))
	for pass := 0; pass < 2; pass++ {
		if pass == 1 {
			for _, p := range u.Paths() {
				if err := checkTarget(item, p); err != nil {
					return nil, err
				}
			}
		}
		for i, s := range u.sets {
			if (s.val.kind == oFunc) != (pass == 1) {
				continue
			}
			v, err := evalSetValue(s.val, item)
			if err != nil {
				return nil, err
			}
			vals[i] = v
		}
		if pass == 0 {
			for _, a := range u.adds {
				if cur, ok := getPath(item, a.path); ok {
					if _, err := addValues(cur, a.val, u.legacyAdd); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	out := attr.Item{}
	if item != nil {
		out = item.Clone()
	}
	type write struct {
		path Path
		val  attr.Value
		add  bool
	}
	writes := make([]write, 0, len(u.sets)+len(u.adds))
	for i, s := range u.sets {
		writes = append(writes, write{s.path, vals[i], false})
	}
	for _, a := range u.adds {
		writes = append(writes, write{a.path, a.val, true})
	}
	sort.SliceStable(writes, func(i, j int) bool { return comparePaths(writes[i].path, writes[j].path) < 0 })
	for _, w := range writes {
		v := w.val
		if w.add {
			cur, ok := getPath(out, w.path)
			if ok {
				var err error
				if v, err = addValues(cur, w.val, u.legacyAdd); err != nil {
					return nil, err
				}
			}
		}
		if err := setPath(out, w.path, v); err != nil {
			return nil, err
		}
	}
	for _, d := range u.deletes {
		cur, ok := getPath(out, d.path)
		if !ok {
			continue
		}
		rest, err := deleteFromSet(cur, d.val)
		if err != nil {
			return nil, err
		}
		if setLen(rest) == 0 {
			if err := removePath(out, d.path); err != nil {
				return nil, err
			}
		} else if err := setPath(out, d.path, rest); err != nil {
			return nil, err
		}
	}
	removes := append([]Path(nil), u.removes...)
	sort.SliceStable(removes, func(i, j int) bool { return comparePaths(removes[i], removes[j]) > 0 })
	for _, r := range removes {
		if err := removePath(out, r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func numErr(err error) error {
	return ddberr.Validation("%s", err.Error())
}

// evalSetValue computes a SET right-hand side against the original item.
func evalSetValue(o *operand, item attr.Item) (attr.Value, error) {
	switch o.kind {
	case oValue:
		return o.val, nil
	case oPath:
		v, ok := getPath(item, o.path)
		if !ok {
			return attr.Value{}, runtimeErr(msgMissingOperand)
		}
		return v, nil
	case oArith:
		l, err := evalSetValue(o.args[0], item)
		if err != nil {
			return attr.Value{}, err
		}
		r, err := evalSetValue(o.args[1], item)
		if err != nil {
			return attr.Value{}, err
		}
		if l.Type != attr.N || r.Type != attr.N {
			return attr.Value{}, runtimeErr(msgBadOperandType)
		}
		var n string
		if o.fn == "+" {
			n, err = attr.AddNumbers(l.S, r.S)
		} else {
			n, err = attr.SubNumbers(l.S, r.S)
		}
		if err != nil {
			return attr.Value{}, numErr(err)
		}
		return attr.Num(n)
	case oFunc:
		switch o.fn {
		case "if_not_exists":
			if v, ok := getPath(item, o.args[0].path); ok {
				return v, nil
			}
			return evalSetValue(o.args[1], item)
		case "list_append":
			l, err := evalSetValue(o.args[0], item)
			if err != nil {
				return attr.Value{}, err
			}
			r, err := evalSetValue(o.args[1], item)
			if err != nil {
				return attr.Value{}, err
			}
			if l.Type != attr.L || r.Type != attr.L {
				return attr.Value{}, runtimeErr(msgBadOperandType)
			}
			out := make([]attr.Value, 0, len(l.L)+len(r.L))
			return attr.List(append(append(out, l.L...), r.L...)), nil
		}
	}
	return attr.Value{}, runtimeErr(msgBadOperandType)
}

// addValues is ADD on an existing value: number sum or set union (and, for
// legacy AttributeUpdates, list append).
func addValues(cur, v attr.Value, legacy bool) (attr.Value, error) {
	switch {
	case cur.Type == attr.N && v.Type == attr.N:
		n, err := attr.AddNumbers(cur.S, v.S)
		if err != nil {
			return attr.Value{}, numErr(err)
		}
		return attr.Num(n)
	case cur.Type.IsSet() && cur.Type == v.Type:
		return unionSets(cur, v), nil
	case legacy && cur.Type == attr.L && v.Type == attr.L:
		out := make([]attr.Value, 0, len(cur.L)+len(v.L))
		return attr.List(append(append(out, cur.L...), v.L...)), nil
	}
	return attr.Value{}, runtimeErr(msgBadOperandType)
}

func unionSets(a, b attr.Value) attr.Value {
	out := a
	if a.Type == attr.BS {
		out.BS = append([][]byte(nil), a.BS...)
		for _, e := range b.BS {
			if !hasBytes(out.BS, e) {
				out.BS = append(out.BS, e)
			}
		}
		return out
	}
	out.SS = append([]string(nil), a.SS...)
	seen := make(map[string]bool, len(out.SS))
	for _, e := range out.SS {
		seen[e] = true
	}
	for _, e := range b.SS {
		if !seen[e] {
			seen[e] = true
			out.SS = append(out.SS, e)
		}
	}
	return out
}

func hasBytes(set [][]byte, e []byte) bool {
	for _, x := range set {
		if bytes.Equal(x, e) {
			return true
		}
	}
	return false
}

func deleteFromSet(cur, v attr.Value) (attr.Value, error) {
	if !cur.Type.IsSet() || cur.Type != v.Type {
		return attr.Value{}, runtimeErr(msgBadOperandType)
	}
	out := cur
	if cur.Type == attr.BS {
		out.BS = nil
		for _, e := range cur.BS {
			if !hasBytes(v.BS, e) {
				out.BS = append(out.BS, e)
			}
		}
		return out, nil
	}
	drop := make(map[string]bool, len(v.SS))
	for _, e := range v.SS {
		drop[e] = true
	}
	out.SS = nil
	for _, e := range cur.SS {
		if !drop[e] {
			out.SS = append(out.SS, e)
		}
	}
	return out, nil
}

func setLen(v attr.Value) int {
	if v.Type == attr.BS {
		return len(v.BS)
	}
	return len(v.SS)
}

// setPath stores v at path in item. Every element but the last must exist
// with the right container type; a list index past the end appends.
// checkTarget reports whether p can be written or removed in item: every
// ancestor exists and the direct parent is a map (for a name) or a list (for
// an index).
func checkTarget(item attr.Item, p Path) error {
	if len(p) < 2 {
		return nil
	}
	parent, ok := getPath(item, p[:len(p)-1])
	last := p[len(p)-1]
	if !ok || last.IsIndex && parent.Type != attr.L || !last.IsIndex && parent.Type != attr.M {
		return runtimeErr(msgBadUpdatePath)
	}
	return nil
}

func setPath(item attr.Item, p Path, v attr.Value) error {
	if len(p) == 1 {
		item[p[0].Name] = v
		return nil
	}
	child, ok := item[p[0].Name]
	if !ok {
		return runtimeErr(msgBadUpdatePath)
	}
	nv, err := setIn(child, p[1:], v)
	if err != nil {
		return err
	}
	item[p[0].Name] = nv
	return nil
}

func setIn(c attr.Value, rest Path, v attr.Value) (attr.Value, error) {
	e := rest[0]
	if e.IsIndex {
		if c.Type != attr.L {
			return c, runtimeErr(msgBadUpdatePath)
		}
		if len(rest) == 1 {
			if e.Index < len(c.L) {
				c.L[e.Index] = v
			} else {
				c.L = append(c.L, v)
			}
			return c, nil
		}
		if e.Index >= len(c.L) {
			return c, runtimeErr(msgBadUpdatePath)
		}
		nv, err := setIn(c.L[e.Index], rest[1:], v)
		if err != nil {
			return c, err
		}
		c.L[e.Index] = nv
		return c, nil
	}
	if c.Type != attr.M {
		return c, runtimeErr(msgBadUpdatePath)
	}
	if c.M == nil {
		c.M = map[string]attr.Value{}
	}
	if len(rest) == 1 {
		c.M[e.Name] = v
		return c, nil
	}
	child, ok := c.M[e.Name]
	if !ok {
		return c, runtimeErr(msgBadUpdatePath)
	}
	nv, err := setIn(child, rest[1:], v)
	if err != nil {
		return c, err
	}
	c.M[e.Name] = nv
	return c, nil
}

// removePath deletes the element at path; a missing last element is not an
// error, a missing or mistyped parent is.
func removePath(item attr.Item, p Path) error {
	if len(p) == 1 {
		delete(item, p[0].Name)
		return nil
	}
	child, ok := item[p[0].Name]
	if !ok {
		return runtimeErr(msgBadUpdatePath)
	}
	nv, err := removeIn(child, p[1:])
	if err != nil {
		return err
	}
	item[p[0].Name] = nv
	return nil
}

func removeIn(c attr.Value, rest Path) (attr.Value, error) {
	e := rest[0]
	if e.IsIndex {
		if c.Type != attr.L {
			return c, runtimeErr(msgBadUpdatePath)
		}
		if len(rest) == 1 {
			if e.Index < len(c.L) {
				c.L = append(c.L[:e.Index:e.Index], c.L[e.Index+1:]...)
			}
			return c, nil
		}
		if e.Index >= len(c.L) {
			return c, runtimeErr(msgBadUpdatePath)
		}
		nv, err := removeIn(c.L[e.Index], rest[1:])
		if err != nil {
			return c, err
		}
		c.L[e.Index] = nv
		return c, nil
	}
	if c.Type != attr.M {
		return c, runtimeErr(msgBadUpdatePath)
	}
	if len(rest) == 1 {
		delete(c.M, e.Name)
		return c, nil
	}
	child, ok := c.M[e.Name]
	if !ok {
		return c, runtimeErr(msgBadUpdatePath)
	}
	nv, err := removeIn(child, rest[1:])
	if err != nil {
		return c, err
	}
	c.M[e.Name] = nv
	return c, nil
}

package expr

import (
	"strconv"
	"strings"

	"github.com/dualread/dualread/adapter/attr"
)

// String renders the path in expression syntax, e.g. a.b[2].c. Names are
// already substituted, so the result is for humans and logs, not reparsing.
func (p Path) String() string {
	var b strings.Builder
	for i, e := range p {
		switch {
		case e.IsIndex:
			b.WriteString("[" + strconv.Itoa(e.Index) + "]")
		case i > 0:
			b.WriteString("." + e.Name)
		default:
			b.WriteString(e.Name)
		}
	}
	return b.String()
}

// bracketed renders the path as DynamoDB does in messages: [a, b, [1]].
func (p Path) bracketed() string {
	parts := make([]string, len(p))
	for i, e := range p {
		if e.IsIndex {
			parts[i] = "[" + strconv.Itoa(e.Index) + "]"
		} else {
			parts[i] = e.Name
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func (p Path) equal(q Path) bool {
	if len(p) != len(q) {
		return false
	}
	for i := range p {
		if p[i] != q[i] {
			return false
		}
	}
	return true
}

// opKind says what an operand is.
type opKind uint8

const (
	oPath  opKind = iota // a document path, read from the item
	oValue               // an ExpressionAttributeValues entry
	oFunc                // a function call: size, if_not_exists, list_append, or a misplaced condition function
	oArith               // update SET operand a + b or a - b (fn holds "+" or "-")
)

type operand struct {
	kind opKind
	path Path
	val  attr.Value
	fn   string
	args []*operand
}

// staticType is the type an operand is known to have before evaluation, or
// TypeInvalid when it depends on the item. DynamoDB rejects some operand types
// at parse time (e.g. a BOOL value compared with <), using exactly this.
func (o *operand) staticType() attr.Type {
	switch o.kind {
	case oValue:
		return o.val.Type
	case oArith:
		return attr.N
	case oFunc:
		switch o.fn {
		case "size":
			return attr.N
		case "list_append":
			return attr.L
		}
	}
	return attr.TypeInvalid
}

// condKind says what a condition node is.
type condKind uint8

const (
	cAnd condKind = iota
	cOr
	cNot
	cCmp     // args[0] op args[1]
	cBetween // args[0] BETWEEN args[1] AND args[2]
	cIn      // args[0] IN (args[1:]...)
	cFunc    // fn(args...) used as a condition
	cBare    // an operand standing alone; valid only inside ( ) before a comparator
)

type cond struct {
	kind   condKind
	op     string // comparison operator or function name
	sub    []*cond
	args   []*operand
	parens bool // written inside its own parentheses
}

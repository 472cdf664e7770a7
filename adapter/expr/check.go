package expr

import (
	"github.com/dualread/dualread/adapter/attr"
)

// Semantic checks DynamoDB makes once an expression parsed: function names
// and arities, operand types known before evaluation, and operand shapes.

// funcArity is the operand count of every function DynamoDB knows.
var funcArity = map[string]int{
	"attribute_exists":     1,
	"attribute_not_exists": 1,
	"attribute_type":       2,
	"begins_with":          2,
	"contains":             2,
	"size":                 1,
	"if_not_exists":        2,
	"list_append":          2,
}

func isConditionFunc(fn string) bool {
	switch fn {
	case "attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains":
		return true
	}
	return false
}

func isUpdateFunc(fn string) bool { return fn == "if_not_exists" || fn == "list_append" }

// validTypes is the list DynamoDB prints for a bad attribute_type argument.
const validTypes = "{N,BS,L,B,NULL,M,S,SS,NS,BOOL}"

func isScalar(t attr.Type) bool { return t == attr.S || t == attr.N || t == attr.B }

func (p *parser) opTypeErr(op string, t attr.Type) error {
	return invalid(p.kind, "Incorrect operand type for operator or function; operator or function: %s, operand type: %s", op, t)
}

func (p *parser) checkArity(fn string, n int) error {
	if funcArity[fn] != n {
		return invalid(p.kind, "Incorrect number of operands for operator or function; operator or function: %s, number of operands: %d", fn, n)
	}
	return nil
}

// checkCond walks a condition tree in source order.
func (p *parser) checkCond(c *cond) error {
	switch c.kind {
	case cAnd, cOr, cNot:
		for _, s := range c.sub {
			if err := p.checkCond(s); err != nil {
				return err
			}
		}
		return nil
	case cFunc:
		return p.checkCondFunc(c)
	}
	for _, a := range c.args {
		if err := p.checkOperand(a); err != nil {
			return err
		}
	}
	switch c.kind {
	case cCmp:
		if c.op != "=" && c.op != "<>" {
			for _, a := range c.args {
				if t := a.staticType(); t != attr.TypeInvalid && !isScalar(t) {
					return p.opTypeErr(c.op, t)
				}
			}
		}
	case cBetween:
		for _, a := range c.args {
			if t := a.staticType(); t != attr.TypeInvalid && !isScalar(t) {
				return p.opTypeErr(c.op, t)
			}
		}
	case cIn:
		if n := len(c.args) - 1; n > maxInOperands {
			return invalid(p.kind, "The IN operator is provided with too many operands; number of operands: %d", n)
		}
	}
	if first := c.args[0]; first.kind == oPath {
		for _, a := range c.args[1:] {
			if a.kind == oPath && a.path.equal(first.path) {
				return invalid(p.kind, "The first operand must be distinct from the remaining operands for this operator or function; operator: %s, first operand: %s", c.op, first.path.bracketed())
			}
		}
	}
	if c.kind == cBetween {
		lo, hi := c.args[1], c.args[2]
		if lo.kind == oValue && hi.kind == oValue {
			if lo.val.Type != hi.val.Type {
				return invalid(p.kind, "The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: %s, upper bound operand: AttributeValue: %s", describe(lo.val), describe(hi.val))
			}
			if cmp, ok := attr.Compare(lo.val, hi.val); ok && cmp > 0 {
				return invalid(p.kind, "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: %s, upper bound operand: AttributeValue: %s", describe(lo.val), describe(hi.val))
			}
		}
	}
	return nil
}

// describe renders a scalar the way DynamoDB quotes it in messages: {N:2}.
func describe(v attr.Value) string {
	switch v.Type {
	case attr.S, attr.N:
		return "{" + v.Type.String() + ":" + v.S + "}"
	case attr.B:
		return "{B:" + encodeB64(v.B) + "}"
	}
	return "{" + v.Type.String() + "}"
}

func (p *parser) checkCondFunc(c *cond) error {
	fn := c.op
	switch {
	case fn == "size":
		return invalid(p.kind, "The function is not allowed to be used this way in an expression; function: %s", fn)
	case isUpdateFunc(fn):
		return invalid(p.kind, "The function is not allowed in a condition expression; function: %s", fn)
	case !isConditionFunc(fn):
		return invalid(p.kind, "Invalid function name; function: %s", fn)
	}
	if err := p.checkArity(fn, len(c.args)); err != nil {
		return err
	}
	for _, a := range c.args {
		if err := p.checkOperand(a); err != nil {
			return err
		}
	}
	switch fn {
	case "attribute_exists", "attribute_not_exists", "attribute_type":
		if c.args[0].kind != oPath {
			return invalid(p.kind, "Operator or function requires a document path; operator or function: %s", fn)
		}
	}
	switch fn {
	case "attribute_type":
		a := c.args[1]
		if t := a.staticType(); t != attr.TypeInvalid && t != attr.S {
			return p.opTypeErr(fn, t)
		}
		if a.kind == oValue && attr.ParseType(a.val.S) == attr.TypeInvalid {
			return invalid(p.kind, "Invalid attribute type name found; type: %s, valid types: %s", a.val.S, validTypes)
		}
	case "begins_with":
		for _, a := range c.args {
			if t := a.staticType(); t != attr.TypeInvalid && t != attr.S && t != attr.B {
				return p.opTypeErr(fn, t)
			}
		}
	}
	return nil
}

// checkOperand checks an operand of a condition or of an update SET action.
func (p *parser) checkOperand(o *operand) error {
	switch o.kind {
	case oArith:
		for _, a := range o.args {
			if err := p.checkOperand(a); err != nil {
				return err
			}
		}
		for _, a := range o.args {
			if t := a.staticType(); t != attr.TypeInvalid && t != attr.N {
				return p.opTypeErr(o.fn, t)
			}
		}
		return nil
	case oFunc:
	default:
		return nil
	}
	fn := o.fn
	switch {
	case isConditionFunc(fn):
		return invalid(p.kind, "The function is not allowed to be used this way in an expression; function: %s", fn)
	case fn == "size" && p.kind == KindUpdate:
		return invalid(p.kind, "The function is not allowed in an update expression; function: %s", fn)
	case isUpdateFunc(fn) && p.kind != KindUpdate:
		return invalid(p.kind, "The function is not allowed in a condition expression; function: %s", fn)
	case funcArity[fn] == 0:
		return invalid(p.kind, "Invalid function name; function: %s", fn)
	}
	if err := p.checkArity(fn, len(o.args)); err != nil {
		return err
	}
	for _, a := range o.args {
		if err := p.checkOperand(a); err != nil {
			return err
		}
	}
	switch fn {
	case "size":
		if t := o.args[0].staticType(); t != attr.TypeInvalid && (t == attr.N || t == attr.BOOL || t == attr.NULL) {
			return p.opTypeErr(fn, t)
		}
	case "if_not_exists":
		if o.args[0].kind != oPath {
			return invalid(p.kind, "Operator or function requires a document path; operator or function: %s", fn)
		}
	case "list_append":
		for _, a := range o.args {
			if t := a.staticType(); t != attr.TypeInvalid && t != attr.L {
				return p.opTypeErr(fn, t)
			}
		}
	}
	return nil
}

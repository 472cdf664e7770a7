package expr

import (
	"strconv"
	"strings"
)

// Limits DynamoDB enforces on every expression.
const (
	maxExprBytes  = 4096 // expression length in bytes
	maxOperators  = 300  // comparisons, functions, AND, OR, NOT, BETWEEN, IN, + and -
	maxPathDepth  = 32   // document path elements
	maxInOperands = 100  // right-hand operands of IN
	maxListIndex  = 1<<31 - 1
)

// parser is a recursive-descent parser over the token slice. Errors are
// returned, never panicked; the first syntax error stops parsing. Problems that
// DynamoDB reports only after a successful parse (reserved words, undefined
// placeholders) are recorded and reported by finish in DynamoDB's order.
type parser struct {
	src    string
	toks   []token
	i      int
	kind   Kind
	params *Params

	ops      int
	reserved string // first bare name that is a reserved word
	refErr   error  // first undefined #name or :value
	// update mode treats SET/REMOVE/ADD/DELETE as clause keywords.
	update bool
}

func newParser(s string, k Kind, p *Params) (*parser, error) {
	if len(s) > maxExprBytes {
		return nil, invalid(k, "Expression size has exceeded the maximum allowed size; expression size: %d", len(s))
	}
	if strings.TrimSpace(s) == "" {
		return nil, invalid(k, "The expression can not be empty;")
	}
	if p == nil {
		p = NewParams(nil, nil)
	}
	return &parser{src: s, toks: lex(s), kind: k, params: p}, nil
}

func (p *parser) tok() token  { return p.toks[p.i] }
func (p *parser) peek() token { return p.toks[min(p.i+1, len(p.toks)-1)] }
func (p *parser) next()       { p.i = min(p.i+1, len(p.toks)-1) }

func (p *parser) isPunct(s string) bool {
	t := p.tok()
	return t.kind == tPunct && t.text == s
}

// isKeyword reports whether the current token is the case-insensitive keyword kw.
func (p *parser) isKeyword(kw string) bool {
	t := p.tok()
	return t.kind == tIdent && strings.EqualFold(t.text, kw)
}

// keywordToken reports whether t can only be a keyword where a path may start.
func (p *parser) keywordToken(t token) bool {
	if t.kind != tIdent {
		return false
	}
	switch strings.ToUpper(t.text) {
	case "AND", "OR", "NOT", "BETWEEN", "IN":
		return true
	case "SET", "REMOVE", "ADD", "DELETE":
		return p.update
	}
	return false
}

// syntaxErr reports the current token the way DynamoDB does: the token, and
// the source text from the previous token through the next one.
func (p *parser) syntaxErr() error {
	t := p.tok()
	start := t.pos
	if p.i > 0 {
		start = p.toks[p.i-1].pos
	}
	end := p.toks[min(p.i+1, len(p.toks)-1)].end
	return invalid(p.kind, "Syntax error; token: \"%s\", near: \"%s\"", t.text, p.src[start:end])
}

func (p *parser) expectPunct(s string) error {
	if !p.isPunct(s) {
		return p.syntaxErr()
	}
	p.next()
	return nil
}

func (p *parser) countOp() error {
	p.ops++
	if p.ops > maxOperators {
		return invalid(p.kind, "The expression contains too many operators; operator count: %d", p.ops)
	}
	return nil
}

// finish checks the whole input was consumed and reports deferred errors.
func (p *parser) finish() error {
	if p.tok().kind != tEOF {
		return p.syntaxErr()
	}
	if p.reserved != "" {
		return invalid(p.kind, "Attribute name is a reserved keyword; reserved keyword: %s", p.reserved)
	}
	return p.refErr
}

// name resolves one path element written as a bare name or a #placeholder.
func (p *parser) name(t token) string {
	if t.kind == tIdent {
		if p.reserved == "" && isReserved(t.text) {
			p.reserved = t.text
		}
		return t.text
	}
	v, ok := p.params.Names[t.text]
	if !ok {
		if p.refErr == nil {
			p.refErr = invalid(p.kind, "An expression attribute name used in the document path is not defined; attribute name: %s", t.text)
		}
		return t.text
	}
	p.params.usedNames[t.text] = true
	return v
}

// parsePath reads name ( '.' name | '[' index ']' )*.
func (p *parser) parsePath() (Path, error) {
	t := p.tok()
	if (t.kind != tIdent && t.kind != tName) || p.keywordToken(t) {
		return nil, p.syntaxErr()
	}
	p.next()
	path := Path{{Name: p.name(t)}}
	for {
		switch {
		case p.isPunct("."):
			p.next()
			t := p.tok()
			if t.kind != tIdent && t.kind != tName {
				return nil, p.syntaxErr()
			}
			p.next()
			path = append(path, PathElem{Name: p.name(t)})
		case p.isPunct("["):
			p.next()
			t := p.tok()
			if t.kind != tNumber {
				return nil, p.syntaxErr()
			}
			n, err := strconv.Atoi(t.text)
			if err != nil || n > maxListIndex {
				return nil, invalid(p.kind, "List index is not within the allowable range; index: [%s]", t.text)
			}
			p.next()
			if err := p.expectPunct("]"); err != nil {
				return nil, err
			}
			path = append(path, PathElem{Index: n, IsIndex: true})
		default:
			if len(path) > maxPathDepth {
				return nil, invalid(p.kind, "The document path has too many nesting levels; nesting levels: %d", len(path))
			}
			return path, nil
		}
	}
}

// parseOperand reads a path, a :value, or a function call. In update mode a
// parenthesised operand is allowed too (DynamoDB accepts SET a = (:v) and
// a = (:v)); a condition's left operand in parentheses is handled by parsePrimary.
func (p *parser) parseOperand() (*operand, error) {
	t := p.tok()
	switch {
	case t.kind == tValue:
		p.next()
		o := &operand{kind: oValue, fn: t.text}
		v, ok := p.params.Values[t.text]
		if !ok {
			if p.refErr == nil {
				p.refErr = invalid(p.kind, "An expression attribute value used in expression is not defined; attribute value: %s", t.text)
			}
		} else {
			p.params.usedValues[t.text] = true
			o.val = v
		}
		return o, nil
	case t.kind == tIdent && p.peek().kind == tPunct && p.peek().text == "(" && !p.keywordToken(t):
		p.next()
		p.next()
		if err := p.countOp(); err != nil {
			return nil, err
		}
		o := &operand{kind: oFunc, fn: t.text}
		for {
			a, err := p.parseOperand()
			if err != nil {
				return nil, err
			}
			o.args = append(o.args, a)
			if !p.isPunct(",") {
				break
			}
			p.next()
		}
		return o, p.expectPunct(")")
	case t.kind == tPunct && t.text == "(":
		p.next()
		parse := p.parseOperand
		if p.update {
			parse = p.parseSetValue
		}
		o, err := parse()
		if err != nil {
			return nil, err
		}
		return o, p.expectPunct(")")
	}
	path, err := p.parsePath()
	if err != nil {
		return nil, err
	}
	return &operand{kind: oPath, path: path}, nil
}

func isComparator(t token) bool {
	if t.kind != tPunct {
		return false
	}
	switch t.text {
	case "=", "<>", "<", "<=", ">", ">=":
		return true
	}
	return false
}

// Condition grammar, loosest first (DynamoDB precedence NOT > AND > OR):
//
//	or      := and ( OR and )*
//	and     := not ( AND not )*
//	not     := NOT not | primary
//	primary := '(' or ')' | operand comparator operand
//	         | operand BETWEEN operand AND operand
//	         | operand IN '(' operand ( ',' operand )* ')' | function
//
// bareOK lets a lone operand through when it is the whole content of a pair of
// parentheses, because DynamoDB accepts (a) = :v.
func (p *parser) parseOr(bareOK bool) (*cond, error) {
	left, err := p.parseAnd(bareOK)
	if err != nil || left.kind == cBare {
		return left, err
	}
	for p.isKeyword("OR") {
		p.next()
		if err := p.countOp(); err != nil {
			return nil, err
		}
		right, err := p.parseAnd(false)
		if err != nil {
			return nil, err
		}
		left = &cond{kind: cOr, sub: []*cond{left, right}}
	}
	return left, nil
}

func (p *parser) parseAnd(bareOK bool) (*cond, error) {
	left, err := p.parseNot(bareOK)
	if err != nil || left.kind == cBare {
		return left, err
	}
	for p.isKeyword("AND") {
		p.next()
		if err := p.countOp(); err != nil {
			return nil, err
		}
		right, err := p.parseNot(false)
		if err != nil {
			return nil, err
		}
		left = &cond{kind: cAnd, sub: []*cond{left, right}}
	}
	return left, nil
}

func (p *parser) parseNot(bareOK bool) (*cond, error) {
	// Iterative over NOT chains so "NOT NOT NOT ..." cannot exhaust the stack
	// before the operator limit stops it.
	nots := 0
	for p.isKeyword("NOT") {
		p.next()
		nots++
		if err := p.countOp(); err != nil {
			return nil, err
		}
	}
	c, err := p.parsePrimary(bareOK && nots == 0)
	if err != nil {
		return nil, err
	}
	for ; nots > 0; nots-- {
		c = &cond{kind: cNot, sub: []*cond{c}}
	}
	return c, nil
}

func (p *parser) parsePrimary(bareOK bool) (*cond, error) {
	if p.isPunct("(") {
		p.next()
		inner, err := p.parseOr(true)
		if err != nil {
			return nil, err
		}
		if err := p.expectPunct(")"); err != nil {
			return nil, err
		}
		switch {
		case inner.kind == cBare:
			return p.parseComparison(inner.args[0], bareOK)
		case inner.kind == cFunc && !inner.parens && p.startsComparison():
			return p.parseComparison(&operand{kind: oFunc, fn: inner.op, args: inner.args}, bareOK)
		case inner.parens:
			return nil, invalid(p.kind, "The expression has redundant parentheses;")
		}
		inner.parens = true
		return inner, nil
	}
	o, err := p.parseOperand()
	if err != nil {
		return nil, err
	}
	return p.parseComparison(o, bareOK)
}

func (p *parser) startsComparison() bool {
	return isComparator(p.tok()) || p.isKeyword("BETWEEN") || p.isKeyword("IN")
}

// parseComparison continues after the left operand o.
func (p *parser) parseComparison(o *operand, bareOK bool) (*cond, error) {
	t := p.tok()
	switch {
	case isComparator(t):
		p.next()
		if err := p.countOp(); err != nil {
			return nil, err
		}
		r, err := p.parseOperand()
		if err != nil {
			return nil, err
		}
		return &cond{kind: cCmp, op: t.text, args: []*operand{o, r}}, nil
	case p.isKeyword("BETWEEN"):
		p.next()
		if err := p.countOp(); err != nil {
			return nil, err
		}
		lo, err := p.parseOperand()
		if err != nil {
			return nil, err
		}
		if !p.isKeyword("AND") {
			return nil, p.syntaxErr()
		}
		p.next()
		hi, err := p.parseOperand()
		if err != nil {
			return nil, err
		}
		return &cond{kind: cBetween, op: "BETWEEN", args: []*operand{o, lo, hi}}, nil
	case p.isKeyword("IN"):
		p.next()
		if err := p.countOp(); err != nil {
			return nil, err
		}
		if err := p.expectPunct("("); err != nil {
			return nil, err
		}
		c := &cond{kind: cIn, op: "IN", args: []*operand{o}}
		for {
			a, err := p.parseOperand()
			if err != nil {
				return nil, err
			}
			c.args = append(c.args, a)
			if !p.isPunct(",") {
				break
			}
			p.next()
		}
		return c, p.expectPunct(")")
	}
	if o.kind == oFunc {
		return &cond{kind: cFunc, op: o.fn, args: o.args}, nil
	}
	if bareOK && p.isPunct(")") {
		return &cond{kind: cBare, args: []*operand{o}}, nil
	}
	return nil, p.syntaxErr()
}

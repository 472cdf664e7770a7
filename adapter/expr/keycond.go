package expr

import (
	"github.com/dualread/dualread/adapter/attr"
	"github.com/dualread/dualread/adapter/ddberr"
)

// ParseKeyCondition parses a KeyConditionExpression into one or two
// conjuncts. Shape errors that need no schema are reported here with
// DynamoDB's messages; matching the conjuncts to the key schema ("Query
// condition missed key schema element", "Query key condition not supported",
// type mismatches) is the executor's job.
func ParseKeyCondition(s string, params *Params) (*KeyCondition, error) {
	p, err := newParser(s, KindKeyCondition, params)
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
	kc := &KeyCondition{}
	if err := collectKeyConds(c, kc); err != nil {
		return nil, err
	}
	if err := p.checkCond(c); err != nil {
		return nil, err
	}
	return kc, finishKeyCondition(kc)
}

func finishKeyCondition(kc *KeyCondition) error {
	seen := map[string]bool{}
	for _, k := range kc.Conds {
		if seen[k.Name] {
			return ddberr.Validation("KeyConditionExpressions must only contain one condition per key")
		}
		seen[k.Name] = true
	}
	if len(kc.Conds) > 2 {
		return ddberr.Validation("Conditions can be of length 1 or 2 only")
	}
	return nil
}

func badKeyOperator(op string) error {
	return ddberr.Validation("Invalid operator used in KeyConditionExpression: %s", op)
}

func collectKeyConds(c *cond, kc *KeyCondition) error {
	switch c.kind {
	case cAnd:
		for _, s := range c.sub {
			if err := collectKeyConds(s, kc); err != nil {
				return err
			}
		}
		return nil
	case cOr:
		return badKeyOperator("OR")
	case cNot:
		return badKeyOperator("NOT")
	case cIn:
		return badKeyOperator("IN")
	case cFunc:
		if c.op != "begins_with" || len(c.args) != 2 {
			return badKeyOperator(c.op)
		}
	case cCmp:
		if c.op == "<>" {
			return badKeyOperator("<>")
		}
	}
	var name string
	var values []attr.Value
	keyFirst := true
	for i, a := range c.args {
		switch a.kind {
		case oFunc, oArith:
			return ddberr.Validation("KeyConditionExpressions cannot contain nested operations")
		case oPath:
			if name != "" {
				return ddberr.Validation("Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition")
			}
			if len(a.path) != 1 {
				return ddberr.Validation("Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: Key: %s", a.path[0].Name)
			}
			name = a.path[0].Name
			keyFirst = i == 0
		default:
			values = append(values, a.val)
		}
	}
	if name == "" {
		return ddberr.Validation("Invalid condition in KeyConditionExpression: No key attribute specified")
	}
	k := KeyCond{Name: name, Values: values}
	switch c.kind {
	case cFunc:
		if !keyFirst {
			return ddberr.Validation("Invalid condition in KeyConditionExpression: begins_with operator must have the key attribute as its first operand")
		}
		k.Op = OpBeginsWith
	case cBetween:
		if !keyFirst {
			return ddberr.Validation("Invalid condition in KeyConditionExpression: BETWEEN operator must have the key attribute as its first operand")
		}
		k.Op = OpBetween
	default:
		op := c.op
		if !keyFirst { // :v < k means k > :v
			op = map[string]string{"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}[op]
		}
		k.Op = map[string]SortOp{"=": OpEQ, "<": OpLT, "<=": OpLE, ">": OpGT, ">=": OpGE}[op]
	}
	kc.Conds = append(kc.Conds, k)
	return nil
}

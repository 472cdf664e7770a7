package expr

import (
	"sort"

	"github.com/dualread/dualread/adapter/attr"
	"github.com/dualread/dualread/adapter/ddberr"
)

// Legacy (pre-expression) parameters, translated into the same trees the
// expression parser builds so the executor has one evaluation path.

func legacyInvalid(format string, args ...any) error {
	return ddberr.Validation("One or more parameter values were invalid: "+format, args...)
}

func pathOp(name string) *operand   { return &operand{kind: oPath, path: Path{{Name: name}}} }
func valueOp(v attr.Value) *operand { return &operand{kind: oValue, val: v} }

// legacyArgs is how many AttributeValueList entries each operator takes
// (-1: one or more).
var legacyArgs = map[string]int{
	"EQ": 1, "NE": 1, "LE": 1, "LT": 1, "GE": 1, "GT": 1,
	"NOT_NULL": 0, "NULL": 0, "CONTAINS": 1, "NOT_CONTAINS": 1,
	"BEGINS_WITH": 1, "IN": -1, "BETWEEN": 2,
}

// legacyCond builds the condition for one attribute, validating argument
// count and types with DynamoDB's messages.
func legacyCond(name, op string, args []attr.Value) (*cond, error) {
	want, ok := legacyArgs[op]
	if !ok {
		return nil, ddberr.Validation("Comparison type does not exist in DynamoDB")
	}
	if (want >= 0 && len(args) != want) || (want < 0 && len(args) == 0) {
		return nil, legacyInvalid("Invalid number of argument(s) for the %s ComparisonOperator", op)
	}
	for _, a := range args {
		okType := true
		switch op {
		case "LE", "LT", "GE", "GT", "CONTAINS", "NOT_CONTAINS", "IN", "BETWEEN":
			okType = isScalar(a.Type)
		case "BEGINS_WITH":
			okType = a.Type == attr.S || a.Type == attr.B
		}
		if !okType {
			return nil, legacyInvalid("ComparisonOperator %s is not valid for %s AttributeValue type", op, a.Type)
		}
	}
	path := pathOp(name)
	vals := make([]*operand, len(args))
	for i, a := range args {
		vals[i] = valueOp(a)
	}
	cmp := func(o string) *cond { return &cond{kind: cCmp, op: o, args: []*operand{path, vals[0]}} }
	fn := func(f string, a ...*operand) *cond { return &cond{kind: cFunc, op: f, args: a} }
	switch op {
	case "EQ":
		return cmp("="), nil
	case "NE":
		return cmp("<>"), nil
	case "LE":
		return cmp("<="), nil
	case "LT":
		return cmp("<"), nil
	case "GE":
		return cmp(">="), nil
	case "GT":
		return cmp(">"), nil
	case "NULL":
		return fn("attribute_not_exists", path), nil
	case "NOT_NULL":
		return fn("attribute_exists", path), nil
	case "CONTAINS":
		return fn("contains", path, vals[0]), nil
	case "NOT_CONTAINS":
		// The attribute must exist: NOT_CONTAINS on a missing attribute is false.
		return &cond{kind: cAnd, sub: []*cond{
			fn("attribute_exists", path),
			{kind: cNot, sub: []*cond{fn("contains", path, vals[0])}},
		}}, nil
	case "BEGINS_WITH":
		return fn("begins_with", path, vals[0]), nil
	case "IN":
		return &cond{kind: cIn, op: "IN", args: append([]*operand{path}, vals...)}, nil
	}
	// BETWEEN
	if args[0].Type != args[1].Type {
		return nil, legacyInvalid("AttributeValues inside AttributeValueList must be of same type")
	}
	if c, ok := attr.Compare(args[0], args[1]); ok && c > 0 {
		return nil, ddberr.Validation("The BETWEEN condition was provided a range where the lower bound is greater than the upper bound")
	}
	return &cond{kind: cBetween, op: "BETWEEN", args: []*operand{path, vals[0], vals[1]}}, nil
}

// combine joins conditions with ConditionalOperator (AND when empty).
func combine(conds []*cond, n int, conditionalOperator string) (*Condition, error) {
	switch conditionalOperator {
	case "", "AND", "OR":
	default:
		return nil, ddberr.Validation("1 validation error detected: Value '%s' at 'conditionalOperator' failed to satisfy constraint: Member must satisfy enum value set: [AND, OR]", conditionalOperator)
	}
	if conditionalOperator != "" && n < 2 {
		return nil, ddberr.Validation("ConditionalOperator can only be used when Filter or Expected has two or more elements")
	}
	if len(conds) == 0 {
		return &Condition{}, nil
	}
	kind := cAnd
	if conditionalOperator == "OR" {
		kind = cOr
	}
	root := conds[0]
	for _, c := range conds[1:] {
		root = &cond{kind: kind, sub: []*cond{root, c}}
	}
	return &Condition{root: root}, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// FromExpected translates the legacy Expected parameter.
func FromExpected(expected map[string]ExpectedAttributeValue, conditionalOperator string) (*Condition, error) {
	var conds []*cond
	for _, name := range sortedKeys(expected) {
		e := expected[name]
		var c *cond
		var err error
		switch {
		case e.ComparisonOperator != "":
			if e.Exists != nil {
				return nil, legacyInvalid("Exists and ComparisonOperator cannot be used together for Attribute: %s", name)
			}
			if e.Value != nil && len(e.AttributeValueList) > 0 {
				return nil, legacyInvalid("Value and AttributeValueList cannot be used together for Attribute: %s", name)
			}
			args := e.AttributeValueList
			if e.Value != nil {
				args = []attr.Value{*e.Value}
			}
			if len(args) == 0 && legacyArgs[e.ComparisonOperator] != 0 {
				if _, known := legacyArgs[e.ComparisonOperator]; known {
					return nil, legacyInvalid("Value or AttributeValueList must be used with ComparisonOperator: %s for Attribute: %s", e.ComparisonOperator, name)
				}
			}
			c, err = legacyCond(name, e.ComparisonOperator, args)
		case e.Exists != nil && !*e.Exists:
			if e.Value != nil {
				return nil, legacyInvalid("Value cannot be used when Exists is false for Attribute: %s", name)
			}
			c = &cond{kind: cFunc, op: "attribute_not_exists", args: []*operand{pathOp(name)}}
		default:
			if e.Value == nil {
				if e.Exists == nil {
					return nil, legacyInvalid("Value must be provided when Exists is null for Attribute: %s", name)
				}
				return nil, legacyInvalid("Value must be provided when Exists is true for Attribute: %s", name)
			}
			c = &cond{kind: cCmp, op: "=", args: []*operand{pathOp(name), valueOp(*e.Value)}}
		}
		if err != nil {
			return nil, err
		}
		conds = append(conds, c)
	}
	return combine(conds, len(expected), conditionalOperator)
}

// FromFilter translates a legacy QueryFilter or ScanFilter.
func FromFilter(conds map[string]LegacyCondition, conditionalOperator string) (*Condition, error) {
	var out []*cond
	for _, name := range sortedKeys(conds) {
		lc := conds[name]
		c, err := legacyCond(name, lc.ComparisonOperator, lc.AttributeValueList)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return combine(out, len(conds), conditionalOperator)
}

// FromKeyConditions translates legacy KeyConditions. Only EQ, LE, LT, GE, GT,
// BEGINS_WITH and BETWEEN can address a key; the executor matches the
// conjuncts to the schema.
func FromKeyConditions(conds map[string]LegacyCondition) (*KeyCondition, error) {
	kc := &KeyCondition{}
	for _, name := range sortedKeys(conds) {
		lc := conds[name]
		if _, err := legacyCond(name, lc.ComparisonOperator, lc.AttributeValueList); err != nil {
			return nil, err
		}
		op, ok := map[string]SortOp{"EQ": OpEQ, "LE": OpLE, "LT": OpLT, "GE": OpGE, "GT": OpGT, "BEGINS_WITH": OpBeginsWith, "BETWEEN": OpBetween}[lc.ComparisonOperator]
		if !ok {
			return nil, ddberr.Validation("Attempted conditional constraint is not an indexable operation")
		}
		kc.Conds = append(kc.Conds, KeyCond{Name: name, Op: op, Values: lc.AttributeValueList})
	}
	if len(kc.Conds) > 2 {
		return nil, ddberr.Validation("Conditions can be of length 1 or 2 only")
	}
	return kc, nil
}

// FromAttributeUpdates translates legacy AttributeUpdates. Semantics differ
// from UpdateExpression: PUT replaces, DELETE without Value removes the
// attribute and with a set Value removes elements, ADD adds numbers, unions
// sets and appends lists.
func FromAttributeUpdates(u map[string]AttributeValueUpdate) (*Update, error) {
	up := &Update{legacyAdd: true}
	for _, name := range sortedKeys(u) {
		a := u[name]
		path := Path{{Name: name}}
		action := a.Action
		if action == "" {
			action = "PUT"
		}
		switch action {
		case "PUT":
			if a.Value == nil {
				return nil, legacyInvalid("Only DELETE action is allowed when no attribute value is specified")
			}
			up.sets = append(up.sets, setAction{path, valueOp(*a.Value)})
		case "DELETE":
			if a.Value == nil {
				up.removes = append(up.removes, path)
				break
			}
			if !a.Value.Type.IsSet() {
				return nil, legacyInvalid("DELETE action with value is not supported for the type %s", a.Value.Type)
			}
			up.deletes = append(up.deletes, valueAction{path, *a.Value})
		case "ADD":
			if a.Value == nil {
				return nil, legacyInvalid("Only DELETE action is allowed when no attribute value is specified")
			}
			if t := a.Value.Type; t != attr.N && t != attr.L && !t.IsSet() {
				return nil, legacyInvalid("ADD action is not supported for the type %s", t)
			}
			up.adds = append(up.adds, valueAction{path, *a.Value})
		default:
			return nil, ddberr.Validation("1 validation error detected: Value '%s' at 'attributeUpdates.%s.member.action' failed to satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]", action, name)
		}
		up.order = append(up.order, path)
	}
	return up, nil
}

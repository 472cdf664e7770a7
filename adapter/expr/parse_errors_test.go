package expr

import (
	"strings"
	"testing"

	"github.com/dualread/dualread/adapter/attr"
	"github.com/dualread/dualread/adapter/ddberr"
)

// Every message below was produced by DynamoDB Local for the same input
// (UpdateItem ConditionExpression / UpdateExpression, Scan Projection-
// Expression, Query KeyConditionExpression against tables expr_t / expr_q).

func vals(kv ...any) map[string]attr.Value {
	m := map[string]attr.Value{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1].(attr.Value)
	}
	return m
}

var (
	sx   = attr.Str("x")
	n1   = attr.MustNum("1")
	n2   = attr.MustNum("2")
	boo  = attr.Bool(true)
	lst  = attr.List(nil)
	sset = attr.StrSet([]string{"x"})
)

type errCase struct {
	expr   string
	names  map[string]string
	values map[string]attr.Value
	want   string // full message; "" means no error
}

func checkErr(t *testing.T, c errCase, err error) {
	t.Helper()
	if c.want == "" {
		if err != nil {
			t.Errorf("%q: unexpected error %v", c.expr, err)
		}
		return
	}
	if err == nil {
		t.Errorf("%q: no error, want %q", c.expr, c.want)
		return
	}
	de, ok := err.(*ddberr.Error)
	if !ok {
		t.Errorf("%q: error %T is not *ddberr.Error", c.expr, err)
		return
	}
	if de.Name() != "ValidationException" || de.Message != c.want {
		t.Errorf("%q:\n got %s: %s\nwant %s", c.expr, de.Name(), de.Message, c.want)
	}
}

func TestConditionParseErrors(t *testing.T) {
	v := vals(":v", sx)
	const p = "Invalid ConditionExpression: "
	cases := []errCase{
		{"a = :v", nil, v, ""},
		{"a = :v", nil, nil, p + "An expression attribute value used in expression is not defined; attribute value: :v"},
		{"#a = :v", nil, v, p + "An expression attribute name used in the document path is not defined; attribute name: #a"},
		{"status = :v", nil, v, p + "Attribute name is a reserved keyword; reserved keyword: status"},
		{"a x", nil, v, p + `Syntax error; token: "x", near: "a x"`},
		{"a = :v AND", nil, v, p + `Syntax error; token: "<EOF>", near: "AND"`},
		{"a = ", nil, v, p + `Syntax error; token: "<EOF>", near: "= "`},
		{"", nil, v, p + "The expression can not be empty;"},
		{"a = :v)", nil, v, p + `Syntax error; token: ")", near: ":v)"`},
		{"(a = :v", nil, v, p + `Syntax error; token: "<EOF>", near: ":v"`},
		{"begins_with(a, :v)", nil, vals(":v", n1), p + "Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"},
		{"begins_with(:v, a)", nil, vals(":v", n1), p + "Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"},
		{"contains(a, :v)", nil, vals(":v", n1), ""},
		{"size(a) = :v", nil, vals(":v", sx), ""},
		{"size(a)", nil, v, p + "The function is not allowed to be used this way in an expression; function: size"},
		{"a", nil, v, p + `Syntax error; token: "<EOF>", near: "a"`},
		{"attribute_exists(:v)", nil, v, p + "Operator or function requires a document path; operator or function: attribute_exists"},
		{"attribute_type(a, :v)", nil, vals(":v", attr.Str("X")), p + "Invalid attribute type name found; type: X, valid types: {N,BS,L,B,NULL,M,S,SS,NS,BOOL}"},
		{"attribute_type(a, :v)", nil, vals(":v", n1), p + "Incorrect operand type for operator or function; operator or function: attribute_type, operand type: N"},
		{"foo(a)", nil, v, p + "Invalid function name; function: foo"},
		{"a = :v @", nil, v, p + `Syntax error; token: "@", near: ":v @"`},
		{"a.b[x] = :v", nil, v, p + `Syntax error; token: "x", near: "[x]"`},
		{"a[-1] = :v", nil, v, p + `Syntax error; token: "-", near: "[-1"`},
		{":v = :v", nil, v, ""},
		{"a = a", nil, nil, p + "The first operand must be distinct from the remaining operands for this operator or function; operator: =, first operand: [a]"},
		{"a BETWEEN :v AND :w", nil, vals(":v", n2, ":w", n1), p + "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:2}, upper bound operand: AttributeValue: {N:1}"},
		{"a BETWEEN :v AND :w", nil, vals(":v", n2, ":w", attr.Str("1")), p + "The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {N:2}, upper bound operand: AttributeValue: {S:1}"},
		{"a IN ()", nil, v, p + `Syntax error; token: ")", near: "()"`},
		{"a < :v", nil, vals(":v", boo), p + "Incorrect operand type for operator or function; operator or function: <, operand type: BOOL"},
		{"a < :v", nil, vals(":v", lst), p + "Incorrect operand type for operator or function; operator or function: <, operand type: L"},
		{"a > :v", nil, vals(":v", sset), p + "Incorrect operand type for operator or function; operator or function: >, operand type: SS"},
		{"a = :v", nil, vals(":v", lst), ""},
		{"a.#n = :v", nil, v, p + "An expression attribute name used in the document path is not defined; attribute name: #n"},
		{"attribute_exists(size(a))", nil, nil, p + "Operator or function requires a document path; operator or function: attribute_exists"},
		{"size(size(a)) = :v", nil, vals(":v", n1), p + "Incorrect operand type for operator or function; operator or function: size, operand type: N"},
		{"NOT a", nil, nil, p + `Syntax error; token: "<EOF>", near: "a"`},
		{"a = :v AND status = :v", nil, v, p + "Attribute name is a reserved keyword; reserved keyword: status"},
		{"a = :x AND #b = :y", nil, v, p + "An expression attribute value used in expression is not defined; attribute value: :x"},
		{"a = :v AND #b = :y", nil, v, p + "An expression attribute name used in the document path is not defined; attribute name: #b"},
		{"status = :v AND a x", nil, v, p + `Syntax error; token: "x", near: "a x"`},
		{"#b = :v AND status = :v", nil, v, p + "Attribute name is a reserved keyword; reserved keyword: status"},
		{"a-b = :v", nil, v, p + `Syntax error; token: "-", near: "a-b"`},
		{"a1 = :v", nil, v, ""},
		{"1a = :v", nil, v, p + `Syntax error; token: "1", near: "1a"`},
		{"_a = :v", nil, v, p + `Syntax error; token: "_", near: "_a"`},
		{"é = :v", nil, v, p + `Syntax error; token: "é", near: "é ="`},
		{") a", nil, v, p + `Syntax error; token: ")", near: ") a"`},
		{"a = :v AND :v", nil, v, p + `Syntax error; token: "<EOF>", near: ":v"`},
		{"a = # AND b = :v", nil, v, p + `Syntax error; token: "#", near: "= # AND"`},
		{"a = : AND b = :v", nil, v, p + `Syntax error; token: ":", near: "= : AND"`},
		{"a.b.c[1][2].d = :v", nil, v, ""},
		{"a[01] = :v", nil, v, p + `Syntax error; token: "1", near: "01]"`},
		{"a[99999999999] = :v", nil, v, p + "List index is not within the allowable range; index: [99999999999]"},
		{"a . b = :v", nil, v, ""},
		{"a [1] = :v", nil, v, ""},
		{"a = :v and b = :v", nil, v, ""},
		{"size(:v) = :v", nil, v, ""},
		{"begins_with(a, :v) = :v", nil, v, p + "The function is not allowed to be used this way in an expression; function: begins_with"},
		{"attribute_exists(a) = :v", nil, v, p + "The function is not allowed to be used this way in an expression; function: attribute_exists"},
		{"a = begins_with(a, :v)", nil, v, p + "The function is not allowed to be used this way in an expression; function: begins_with"},
		{"a IN (:v)", nil, v, ""},
		{"a IN (a)", nil, nil, p + "The first operand must be distinct from the remaining operands for this operator or function; operator: IN, first operand: [a]"},
		{"a BETWEEN a AND :v", nil, v, p + "The first operand must be distinct from the remaining operands for this operator or function; operator: BETWEEN, first operand: [a]"},
		{"a BETWEEN :v AND a", nil, v, p + "The first operand must be distinct from the remaining operands for this operator or function; operator: BETWEEN, first operand: [a]"},
		{"ATTRIBUTE_EXISTS(a)", nil, nil, p + "Invalid function name; function: ATTRIBUTE_EXISTS"},
		{"Size(a) = :v", nil, v, p + "Invalid function name; function: Size"},
		{"attribute_exists(a, a)", nil, nil, p + "Incorrect number of operands for operator or function; operator or function: attribute_exists, number of operands: 2"},
		{"attribute_exists()", nil, nil, p + `Syntax error; token: ")", near: "()"`},
		{"begins_with(a)", nil, nil, p + "Incorrect number of operands for operator or function; operator or function: begins_with, number of operands: 1"},
		{"a = :v OR", nil, v, p + `Syntax error; token: "<EOF>", near: "OR"`},
		{"a = :v AND (b = :v)", nil, v, ""},
		{"NOT NOT a = :v", nil, v, ""},
		{"a BETWEEN :v AND :v", nil, vals(":v", boo), p + "Incorrect operand type for operator or function; operator or function: BETWEEN, operand type: BOOL"},
		{"a IN (:v, :w)", nil, vals(":v", boo, ":w", attr.Map(nil)), ""},
		{"attribute_type(a, :v)", nil, vals(":v", attr.Str("s")), p + "Invalid attribute type name found; type: s, valid types: {N,BS,L,B,NULL,M,S,SS,NS,BOOL}"},
		{"#a = :v", map[string]string{"#a": "status"}, v, ""},
		{"((a = :v))", nil, v, p + "The expression has redundant parentheses;"},
		{"(a) = :v", nil, v, ""},
		{"a = (:v)", nil, v, ""},
		{"if_not_exists(a, :v) = :v", nil, v, p + "The function is not allowed in a condition expression; function: if_not_exists"},
		{"list_append(a, :v) = :v", nil, v, p + "The function is not allowed in a condition expression; function: list_append"},
		{"a" + strings.Repeat(".b", 31) + " = :v", nil, v, ""},
		{"a" + strings.Repeat(".b", 32) + " = :v", nil, v, p + "The document path has too many nesting levels; nesting levels: 33"},
		{"a" + strings.Repeat("[0]", 32) + " = :v", nil, v, p + "The document path has too many nesting levels; nesting levels: 33"},
		{"a = :v" + strings.Repeat(" ", 4096-6), nil, v, ""},
		{"a = :v" + strings.Repeat(" ", 4097-6), nil, v, p + "Expression size has exceeded the maximum allowed size; expression size: 4097"},
		{strings.Repeat("a = :v OR ", 150) + "a = :v", nil, v, p + "The expression contains too many operators; operator count: 301"},
		{strings.Repeat("a = :v OR ", 149) + "a = :v", nil, v, ""},
		{strings.Repeat("NOT ", 300) + "a = :v", nil, v, p + "The expression contains too many operators; operator count: 301"},
		{"a IN (:v" + strings.Repeat(",:v", 99) + ")", nil, v, ""},
		{"a IN (:v" + strings.Repeat(",:v", 100) + ")", nil, v, p + "The IN operator is provided with too many operands; number of operands: 101"},
	}
	for _, c := range cases {
		_, err := ParseCondition(c.expr, NewParams(c.names, c.values))
		checkErr(t, c, err)
	}
}

func TestFilterPrefix(t *testing.T) {
	_, err := ParseFilter("a x", nil)
	checkErr(t, errCase{expr: "a x", want: `Invalid FilterExpression: Syntax error; token: "x", near: "a x"`}, err)
}

func TestUpdateParseErrors(t *testing.T) {
	const p = "Invalid UpdateExpression: "
	v := vals(":v", n2)
	cases := []errCase{
		{"SET a = :v + :v", nil, vals(":v", attr.Str("1")), p + "Incorrect operand type for operator or function; operator or function: +, operand type: S"},
		{"ADD a :v", nil, vals(":v", sx), p + "Incorrect operand type for operator or function; operator: ADD, operand type: STRING, typeSet: ALLOWED_FOR_ADD_OPERAND"},
		{"ADD a :v", nil, vals(":v", lst), p + "Incorrect operand type for operator or function; operator: ADD, operand type: LIST, typeSet: ALLOWED_FOR_ADD_OPERAND"},
		{"DELETE a :v", nil, vals(":v", sx), p + "Incorrect operand type for operator or function; operator: DELETE, operand type: STRING, typeSet: ALLOWED_FOR_DELETE_OPERAND"},
		{"DELETE a :v", nil, vals(":v", n1), p + "Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER, typeSet: ALLOWED_FOR_DELETE_OPERAND"},
		{"SET a = list_append(:v, :w)", nil, vals(":v", lst, ":w", sx), p + "Incorrect operand type for operator or function; operator or function: list_append, operand type: S"},
		{"SET a = if_not_exists(:v, a)", nil, v, p + "Operator or function requires a document path; operator or function: if_not_exists"},
		{"SET a = size(b)", nil, nil, p + "The function is not allowed in an update expression; function: size"},
		{"SET a = foo(b)", nil, nil, p + "Invalid function name; function: foo"},
		{"SET a = :v SET b = :v", nil, v, p + `The "SET" section can only be used once in an update expression;`},
		{"SET a = :v REMOVE b SET c = :v", nil, v, p + `The "SET" section can only be used once in an update expression;`},
		{"SET a = :v, a.b = :v", nil, v, p + "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]"},
		{"SET a.b = :v, a = :v", nil, v, p + "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a]"},
		{"SET a = :v, a = :v", nil, v, p + "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]"},
		{"SET a[1] = :v, a.b = :v", nil, v, p + "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, [1]], path two: [a, b]"},
		{"SET a = :v REMOVE a", nil, v, p + "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]"},
		{"ADD a b", nil, nil, p + `Syntax error; token: "b", near: "a b"`},
		{"ADD a :v + :v", nil, v, p + `Syntax error; token: "+", near: ":v + :v"`},
		{"SET a = :v + :v + :v", nil, v, p + `Syntax error; token: "+", near: ":v + :v"`},
		{"SET a :v", nil, v, p + `Syntax error; token: ":v", near: "a :v"`},
		{"SET a = :v,", nil, v, p + `Syntax error; token: "<EOF>", near: ","`},
		{"", nil, nil, p + "The expression can not be empty;"},
		{"REMOVE :v", nil, v, p + `Syntax error; token: ":v", near: "REMOVE :v"`},
		{"SET :v = a", nil, v, p + `Syntax error; token: ":v", near: "SET :v ="`},
		{"set a = :v remove b", nil, v, ""},
		{"SET a = (:v)", nil, v, ""},
		{"REMOVE a ADD b :v DELETE c :w SET d = :v", nil, vals(":v", n2, ":w", sset), ""},
		{"SET a = if_not_exists(b, :v) + :v", nil, v, ""},
	}
	for _, c := range cases {
		_, err := ParseUpdate(c.expr, NewParams(c.names, c.values))
		checkErr(t, c, err)
	}
}

func TestKeyConditionErrors(t *testing.T) {
	s := attr.Str("a")
	v := vals(":v", s, ":w", s)
	cases := []errCase{
		{"pk = :v OR sk = :w", nil, v, "Invalid operator used in KeyConditionExpression: OR"},
		{"NOT pk = :v", nil, v, "Invalid operator used in KeyConditionExpression: NOT"},
		{"pk <> :v", nil, v, "Invalid operator used in KeyConditionExpression: <>"},
		{"pk IN (:v)", nil, v, "Invalid operator used in KeyConditionExpression: IN"},
		{"pk = :v AND attribute_exists(sk)", nil, v, "Invalid operator used in KeyConditionExpression: attribute_exists"},
		{"pk = :v AND contains(sk, :w)", nil, v, "Invalid operator used in KeyConditionExpression: contains"},
		{"pk = :v AND sk = :w AND sk = :v", nil, v, "KeyConditionExpressions must only contain one condition per key"},
		{"pk = :v AND pk = :w", nil, v, "KeyConditionExpressions must only contain one condition per key"},
		{"pk = :v AND size(sk) = :w", nil, v, "KeyConditionExpressions cannot contain nested operations"},
		{"pk = sk", nil, v, "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"},
		{"pk = :v AND sk BETWEEN pk AND :w", nil, v, "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"},
		{"pk.a = :v", nil, v, "Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: Key: pk"},
		{"pk[0] = :v", nil, v, "Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: Key: pk"},
		{"pk = :v AND :w = :v", nil, v, "Invalid condition in KeyConditionExpression: No key attribute specified"},
		{"pk = :v AND begins_with(:w, sk)", nil, v, "Invalid condition in KeyConditionExpression: begins_with operator must have the key attribute as its first operand"},
		{"pk = :v AND sk = :w AND x = :v", nil, v, "Conditions can be of length 1 or 2 only"},
		{"pk x", nil, v, `Invalid KeyConditionExpression: Syntax error; token: "x", near: "pk x"`},
		{"(pk = :v AND sk = :w)", nil, v, ""},
		{"pk = :v AND #s = :w", map[string]string{"#s": "sk"}, v, ""},
	}
	for _, c := range cases {
		_, err := ParseKeyCondition(c.expr, NewParams(c.names, c.values))
		checkErr(t, c, err)
	}
}

func TestKeyConditionShape(t *testing.T) {
	a, b := attr.Str("a"), attr.Str("b")
	kc, err := ParseKeyCondition(":w < sk AND pk = :v", NewParams(nil, vals(":v", a, ":w", b)))
	if err != nil {
		t.Fatal(err)
	}
	if len(kc.Conds) != 2 || kc.Conds[0].Name != "sk" || kc.Conds[0].Op != OpGT || kc.Conds[1].Name != "pk" || kc.Conds[1].Op != OpEQ {
		t.Fatalf("got %+v", kc.Conds)
	}
	kc, err = ParseKeyCondition("pk = :v AND sk BETWEEN :v AND :w", NewParams(nil, vals(":v", a, ":w", b)))
	if err != nil {
		t.Fatal(err)
	}
	if c := kc.Conds[1]; c.Op != OpBetween || len(c.Values) != 2 || c.Values[1].S != "b" {
		t.Fatalf("got %+v", kc.Conds)
	}
	kc, err = ParseKeyCondition("pk = :v AND begins_with(sk, :w)", NewParams(nil, vals(":v", a, ":w", b)))
	if err != nil || kc.Conds[1].Op != OpBeginsWith {
		t.Fatalf("got %+v %v", kc, err)
	}
}

func TestProjectionErrors(t *testing.T) {
	const p = "Invalid ProjectionExpression: "
	cases := []errCase{
		{"a, a.b", nil, nil, p + "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]"},
		{"a[1], a.b", nil, nil, p + "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, [1]], path two: [a, b]"},
		{"a, b.c[2], #n", map[string]string{"#n": "x"}, nil, ""},
		{"a,", nil, nil, p + `Syntax error; token: "<EOF>", near: ","`},
		{"#n", nil, nil, p + "An expression attribute name used in the document path is not defined; attribute name: #n"},
		{"name", nil, nil, p + "Attribute name is a reserved keyword; reserved keyword: name"},
	}
	for _, c := range cases {
		_, err := ParseProjection(c.expr, NewParams(c.names, c.values))
		checkErr(t, c, err)
	}
}

func TestCheckUnused(t *testing.T) {
	p := NewParams(map[string]string{"#a": "x", "#b": "y"}, vals(":v", sx))
	if _, err := ParseCondition("a = :v", p); err != nil {
		t.Fatal(err)
	}
	checkErr(t, errCase{expr: "names", want: "Value provided in ExpressionAttributeNames unused in expressions: keys: {#a, #b}"}, p.CheckUnused())
	// Used by a second expression of the same request: no error.
	if _, err := ParseProjection("#a, #b", p); err != nil {
		t.Fatal(err)
	}
	checkErr(t, errCase{expr: "all used", want: ""}, p.CheckUnused())
	p = NewParams(nil, vals(":v", sx, ":w", sx))
	if _, err := ParseCondition("a = :v", p); err != nil {
		t.Fatal(err)
	}
	checkErr(t, errCase{expr: "values", want: "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}"}, p.CheckUnused())
}

func TestParamsValidate(t *testing.T) {
	checkErr(t, errCase{expr: "#a-b", want: `ExpressionAttributeNames contains invalid key: Syntax error; key: "#a-b"`}, NewParams(map[string]string{"#a-b": "x"}, nil).Validate())
	checkErr(t, errCase{expr: ":v-b", want: `ExpressionAttributeValues contains invalid key: Syntax error; key: ":v-b"`}, NewParams(nil, vals(":v-b", sx)).Validate())
	checkErr(t, errCase{expr: "#a", want: "ExpressionAttributeNames contains invalid value: Empty attribute name for key #a"}, NewParams(map[string]string{"#a": ""}, nil).Validate())
	checkErr(t, errCase{expr: "a", want: `ExpressionAttributeNames contains invalid key: Syntax error; key: "a"`}, NewParams(map[string]string{"a": "b"}, nil).Validate())
	checkErr(t, errCase{expr: "ok", want: ""}, NewParams(map[string]string{"#a_1": "b"}, vals(":v_2", sx)).Validate())
}

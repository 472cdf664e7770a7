package expr

import (
	"testing"

	"github.com/dualread/dualread/adapter/attr"
)

// Messages verified against DynamoDB Local (Scan ScanFilter, PutItem Expected).
func TestLegacyFilterErrors(t *testing.T) {
	s := attr.Str("x")
	cases := []struct {
		op   string
		args []attr.Value
		want string
	}{
		{"EQ", nil, "One or more parameter values were invalid: Invalid number of argument(s) for the EQ ComparisonOperator"},
		{"EQ", []attr.Value{s, s}, "One or more parameter values were invalid: Invalid number of argument(s) for the EQ ComparisonOperator"},
		{"NULL", []attr.Value{s}, "One or more parameter values were invalid: Invalid number of argument(s) for the NULL ComparisonOperator"},
		{"BETWEEN", []attr.Value{s}, "One or more parameter values were invalid: Invalid number of argument(s) for the BETWEEN ComparisonOperator"},
		{"IN", nil, "One or more parameter values were invalid: Invalid number of argument(s) for the IN ComparisonOperator"},
		{"FOO", []attr.Value{s}, "Comparison type does not exist in DynamoDB"},
		{"LT", []attr.Value{attr.Bool(true)}, "One or more parameter values were invalid: ComparisonOperator LT is not valid for BOOL AttributeValue type"},
		{"CONTAINS", []attr.Value{SS("x")}, "One or more parameter values were invalid: ComparisonOperator CONTAINS is not valid for SS AttributeValue type"},
		{"BEGINS_WITH", []attr.Value{N("1")}, "One or more parameter values were invalid: ComparisonOperator BEGINS_WITH is not valid for N AttributeValue type"},
		{"BETWEEN", []attr.Value{N("2"), N("1")}, "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound"},
		{"IN", []attr.Value{L()}, "One or more parameter values were invalid: ComparisonOperator IN is not valid for L AttributeValue type"},
		{"EQ", []attr.Value{L()}, ""},
		{"NE", []attr.Value{SS("x")}, ""},
	}
	for _, c := range cases {
		_, err := FromFilter(map[string]LegacyCondition{"a": {c.op, c.args}}, "")
		checkErr(t, errCase{expr: c.op, want: c.want}, err)
	}
	_, err := FromFilter(map[string]LegacyCondition{"a": {"EQ", []attr.Value{s}}}, "OR")
	checkErr(t, errCase{expr: "OR", want: "ConditionalOperator can only be used when Filter or Expected has two or more elements"}, err)
}

func TestLegacyExpected(t *testing.T) {
	f, tr := false, true
	one := N("1")
	bad := []struct {
		e    ExpectedAttributeValue
		want string
	}{
		{ExpectedAttributeValue{Exists: &tr}, "One or more parameter values were invalid: Value must be provided when Exists is true for Attribute: a"},
		{ExpectedAttributeValue{Exists: &f, Value: &one}, "One or more parameter values were invalid: Value cannot be used when Exists is false for Attribute: a"},
		{ExpectedAttributeValue{Value: &one, ComparisonOperator: "EQ", AttributeValueList: []attr.Value{one}}, "One or more parameter values were invalid: Value and AttributeValueList cannot be used together for Attribute: a"},
		{ExpectedAttributeValue{ComparisonOperator: "EQ"}, "One or more parameter values were invalid: Value or AttributeValueList must be used with ComparisonOperator: EQ for Attribute: a"},
		{ExpectedAttributeValue{}, "One or more parameter values were invalid: Value must be provided when Exists is null for Attribute: a"},
		{ExpectedAttributeValue{Exists: &f, ComparisonOperator: "NULL"}, "One or more parameter values were invalid: Exists and ComparisonOperator cannot be used together for Attribute: a"},
	}
	for _, c := range bad {
		_, err := FromExpected(map[string]ExpectedAttributeValue{"a": c.e}, "")
		checkErr(t, errCase{expr: c.want, want: c.want}, err)
	}
	item := attr.Item{"a": one}
	eval := []struct {
		e    map[string]ExpectedAttributeValue
		op   string
		want bool
	}{
		{map[string]ExpectedAttributeValue{"a": {Value: &one}}, "", true},
		{map[string]ExpectedAttributeValue{"a": {Exists: &f}}, "", false},
		{map[string]ExpectedAttributeValue{"b": {Exists: &f}}, "", true},
		{map[string]ExpectedAttributeValue{"a": {Value: &one, ComparisonOperator: "EQ"}}, "", true},
		{map[string]ExpectedAttributeValue{"a": {ComparisonOperator: "GT", AttributeValueList: []attr.Value{one}}}, "", false},
		{map[string]ExpectedAttributeValue{"a": {Exists: &f}, "b": {Exists: &f}}, "OR", true},
		{map[string]ExpectedAttributeValue{"a": {Exists: &f}, "b": {Exists: &f}}, "AND", false},
	}
	for i, c := range eval {
		cond, err := FromExpected(c.e, c.op)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if got, _ := cond.Eval(item); got != c.want {
			t.Errorf("%d: got %v want %v", i, got, c.want)
		}
	}
}

func TestLegacyAttributeUpdates(t *testing.T) {
	one, l2, sx := N("1"), L(N("2")), SS("x")
	u, err := FromAttributeUpdates(map[string]AttributeValueUpdate{
		"n":    {Action: "ADD", Value: &one},
		"l":    {Action: "ADD", Value: &l2},
		"s":    {Action: "DELETE", Value: &sx},
		"gone": {Action: "DELETE"},
		"p":    {Value: &one},
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := u.Apply(attr.Item{"n": N("4"), "l": L(N("1")), "s": SS("x", "y"), "gone": one})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := show(out), `{"l":["N:1","N:2"],"n":"N:5","p":"N:1","s":{"SS":["y"]}}`; got != want {
		t.Fatalf("got %s want %s", got, want)
	}
}

func TestFromKeyConditions(t *testing.T) {
	kc, err := FromKeyConditions(map[string]LegacyCondition{"pk": {"EQ", []attr.Value{attr.Str("a")}}, "sk": {"BEGINS_WITH", []attr.Value{attr.Str("b")}}})
	if err != nil || len(kc.Conds) != 2 || kc.Conds[1].Op != OpBeginsWith {
		t.Fatalf("%+v %v", kc, err)
	}
	pr := FromAttributesToGet([]string{"status", "a.b"})
	if got := show(pr.Apply(attr.Item{"status": one(), "a.b": one(), "a": Mp("b", one())})); got != `{"a.b":"N:1","status":"N:1"}` {
		t.Fatalf("got %s", got)
	}
}

func one() attr.Value { return N("1") }

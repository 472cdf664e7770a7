package expr

import (
	"testing"

	"github.com/dualread/dualread/adapter/attr"
)

// Truth table checked against DynamoDB Local (ConditionExpression on an
// UpdateItem; TRUE = update applied, false = ConditionalCheckFailed).
func TestEval(t *testing.T) {
	item := attr.Item{
		"s":  attr.Str("hello"),
		"n":  attr.MustNum("5"),
		"b":  attr.Bin([]byte{0, 1, 2}),
		"ss": attr.StrSet([]string{"x", "y"}),
		"ns": attr.NumSet([]string{"1", "2"}),
		"l":  attr.List([]attr.Value{attr.Str("x"), attr.MustNum("1")}),
		"m":  attr.Map(map[string]attr.Value{"k": attr.List([]attr.Value{attr.Map(map[string]attr.Value{"z": attr.Str("deep")})})}),
		"e":  attr.Str("é"),
	}
	v := vals(":s", attr.Str("hello"), ":h", attr.Str("he"), ":x", attr.Str("x"), ":n5", attr.MustNum("5"),
		":n1", attr.MustNum("1"), ":n2", attr.MustNum("2"), ":n10", attr.MustNum("10"), ":b1", attr.Bin([]byte{1}),
		":tS", attr.Str("S"), ":tSS", attr.Str("SS"), ":deep", attr.Str("deep"), ":n3", attr.MustNum("3"))
	cases := []struct {
		expr string
		want bool
	}{
		{"s = :s", true},
		{"s = :n5", false}, // type mismatch is false, not an error
		{"n = :n5", true},
		{"n <> :n5", false},
		{"absent <> :n5", true}, // DynamoDB: <> is true when the attribute is absent
		{"absent = :n5", false},
		{"n < :n10", true},
		{"s < :n10", false},
		{"n BETWEEN :n1 AND :n10", true},
		{"n BETWEEN :n1 AND :n2", false},
		{"n IN (:n1, :n5)", true},
		{"n IN (:n1, :n2)", false},
		{"attribute_exists(s)", true},
		{"attribute_not_exists(s)", false},
		{"attribute_not_exists(absent)", true},
		{"attribute_type(s, :tS)", true},
		{"attribute_type(ss, :tSS)", true},
		{"attribute_type(s, :tSS)", false},
		{"begins_with(s, :h)", true},
		{"begins_with(n, :h)", false},
		{"contains(s, :h)", true},
		{"contains(ss, :x)", true},
		{"contains(ns, :n2)", true},
		{"contains(ns, :x)", false},
		{"contains(l, :x)", true},
		{"contains(b, :b1)", true},
		{"size(s) = :n5", true},
		{"size(e) = :n1", true}, // characters, not bytes
		{"size(ss) = :n2", true},
		{"size(n) = :n1", false},
		{"size(n) <> :n1", true},
		{"size(l) < size(s)", true},
		{"m.k[0].z = :deep", true},
		{"m.k[1].z = :deep", false},
		{"m.k.z = :deep", false},
		{"NOT s = :s", false},
		{"s = :s OR n = :n1 AND n = :n2", true},    // AND binds tighter than OR
		{"(s = :s OR n = :n1) AND n = :n2", false}, // parentheses override
		{"NOT s = :x AND n = :n5", true},           // NOT binds tighter than AND
		{"(s) = :s", true},
		{"n = (:n5)", true},
		{"size(:s) = :n5", true},
	}
	for _, c := range cases {
		cond, err := ParseCondition(c.expr, NewParams(nil, v))
		if err != nil {
			t.Errorf("%q: %v", c.expr, err)
			continue
		}
		got, err := cond.Eval(item)
		if err != nil || got != c.want {
			t.Errorf("%q = %v, %v; want %v", c.expr, got, err, c.want)
		}

	}
}

// On a missing item (nil) every attribute is absent.
func TestEvalMissingItem(t *testing.T) {
	v := vals(":n", attr.MustNum("1"))
	for expr, want := range map[string]bool{
		"a = :n": false, "a <> :n": true, "attribute_not_exists(a)": true,
		"attribute_exists(a)": false, "NOT a < :n": true, "size(a) = :n": false,
	} {
		c, err := ParseCondition(expr, NewParams(nil, v))
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := c.Eval(nil); got != want {
			t.Errorf("%q on nil item = %v, want %v", expr, got, want)
		}
	}
}
